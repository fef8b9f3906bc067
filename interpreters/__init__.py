"""Reference interpreters of trnc's IR levels, on xDSL's interpreter framework.

* `graph`: the `graph` dialect's interpreter (`run_graph`, `entry_signature`), the oracle
  the lower levels are checked against; its op implementations are in `graph_ops`, the
  numpy kernels in `graph_kernels` (with `erf`), type conversions in `numpy_types`.

Import the submodules directly (`from trnc.interpreters.graph import run_graph`); this
package imports nothing, so importing it stays cheap.
"""
