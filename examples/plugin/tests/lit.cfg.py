"""lit configuration of the example plug-in's own FileCheck suite.

The plug-in must be importable (installed, or its folder on PYTHONPATH); `trn-opt` then
finds it through its `xdsl.universe` entry point.
"""

import os
import sys

import lit.formats

config.name = "trnc-hswish"  # noqa: F821
config.test_format = lit.formats.ShTest(execute_external=False)  # noqa: F821
config.suffixes = [".mlir"]  # noqa: F821
config.test_source_root = os.path.dirname(__file__)  # noqa: F821
config.environment["PATH"] = os.pathsep.join(  # noqa: F821
    [os.path.dirname(sys.executable), os.environ.get("PATH", "")]
)
if "PYTHONPATH" in os.environ:
    config.environment["PYTHONPATH"] = os.environ["PYTHONPATH"]  # noqa: F821
