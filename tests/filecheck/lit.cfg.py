"""lit configuration for trnc's FileCheck suite.

Run it with `lit -v tests/filecheck` (or through pytest: `pytest tests/test_lit.py`).
Tools are found on PATH; the interpreter's own `bin/` comes first, so the suite runs the
`trn-opt` and `filecheck` of the environment lit runs in, activated or not.
"""

import os
import sys

import lit.formats

config.name = "trnc"  # noqa: F821  (lit injects `config`)
config.test_format = lit.formats.ShTest(execute_external=False)  # noqa: F821
config.suffixes = [".mlir"]  # noqa: F821
config.test_source_root = os.path.dirname(__file__)  # noqa: F821
config.excludes = ["Inputs", "lit.cfg.py"]  # noqa: F821

bin_dir = os.path.dirname(sys.executable)
config.environment["PATH"] = os.pathsep.join(  # noqa: F821
    [bin_dir, os.environ.get("PATH", "")]
)
for name in ("HOME", "TMPDIR", "PYTHONPATH"):
    if name in os.environ:
        config.environment[name] = os.environ[name]  # noqa: F821

repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
config.substitutions.append(("%PYTHON", sys.executable))  # noqa: F821
config.substitutions.append(("%examples", os.path.join(repo_root, "examples")))  # noqa: F821
config.substitutions.append(  # noqa: F821
    ("%trn-opt-roundtrip", "trn-opt %s | trn-opt --print-op-generic | trn-opt")
)
