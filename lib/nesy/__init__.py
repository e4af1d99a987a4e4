"""nesy: the library behind "Neurosymbolic explanations, reproduced".

One module per idea; chapters import the modules they need (``from nesy import data``).
"""

__version__ = "0.1.0"
