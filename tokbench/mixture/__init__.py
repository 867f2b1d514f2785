"""Data mixture inference (Hayase, Liu, Choi, Oh, Smith 2024): what was a BPE tokenizer trained on?

The layers, imports one way:

* :mod:`tokbench.mixture.config`     the defaults (one frozen dataclass the CLI reads);
* :mod:`tokbench.mixture.words`      pre-tokenize a category's sample as the tokenizer does and
                                     deduplicate it into integer symbol arrays;
* :mod:`tokbench.mixture.paircount`  replay the merge list on those arrays (Numba, incremental) and record
                                     how every pair count changes: the trajectories c_{i,p}(t);
* :mod:`tokbench.mixture.reference`  slow, obviously-correct versions of the two above, for the tests;
* :mod:`tokbench.mixture.lp`         the linear program, solved by lazy row and column generation with
                                     HiGHS (and directly, for small instances);
* :mod:`tokbench.mixture.baselines`  the TC baseline, random guessing and the error measure;
* :mod:`tokbench.mixture.infer`      tokenizer + categories -> proportions (the library entry point);
* :mod:`tokbench.mixture.simulate`   the controlled experiment on tokenizers trained on known mixtures;
* :mod:`tokbench.mixture.report`     tables, JSON and plots of a result.
"""

from tokbench.mixture.config import MixtureConfig, SimulationConfig

__all__ = ["MixtureConfig", "SimulationConfig"]
