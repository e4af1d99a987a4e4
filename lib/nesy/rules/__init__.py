"""Rule extraction: QIL hyperplanes, Fidex local rules, FidexGlo global rulesets.

- :class:`QIL`: the quantised layer whose steps are the candidate thresholds;
- :class:`Fidex`: local rules (compiled kernel ``torch.ops.nesy.fidex`` or its Python twin);
- :class:`FidexGlo`: global rulesets with dimlpfidex's covering heuristics 1-3;
- :mod:`~nesy.rules.stats`: the paper's ruleset statistics;
- :mod:`~nesy.rules.rule_json`: rules in dimlpfidex's JSON format;
- :mod:`~nesy.rules.reference`: running dimlpfidex 1.0.1 itself on the same inputs;
- :mod:`~nesy.rules.patches`: patch datasets and the patch-rules features (probabilities, pixels);
- :mod:`~nesy.rules.patch_model`: the patch MLP, the second model (small CNN or VGG-16) and the image CNN;
- :mod:`~nesy.rules.patch_pipeline`: the patch-rules pipeline on one dataset, timed per stage;
- :mod:`~nesy.rules.drawing`: rule figures (patch squares, pixels; green >=, red <).
"""
from . import drawing, patch_model, patch_pipeline, patches, reference, rule_json, stats
from .fidex import Fidex, FidexBatch
from .fidexglo import HEURISTICS, FidexGlo
from .qil import QIL
from .ruleset import Antecedent, Rule, Ruleset, activation_matrix, agreeing_activations
from .stats import RulesetStats, evaluate, summary

__all__ = [
    "QIL", "Fidex", "FidexBatch", "FidexGlo", "HEURISTICS", "Antecedent", "Rule", "Ruleset",
    "RulesetStats", "activation_matrix", "agreeing_activations", "evaluate", "summary", "reference", "rule_json", "stats",
    "patches", "patch_model", "patch_pipeline", "drawing",
]
