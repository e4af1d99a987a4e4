"""nesy: the library behind "Neurosymbolic explanations, reproduced".

One module per idea; chapters import the modules they need (``from nesy import data``).
"""

__version__ = "0.1.0"

# The compiled operators (nesy._C) link against torch's shared libraries, which only importing
# torch loads: so that `import nesy._C` works on its own, the package imports torch first.
import torch as _torch  # noqa: E402,F401
