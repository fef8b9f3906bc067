"""`prepare_inputs` refuses integer data that would wrap when narrowed to its HBM tensor's
type (an int64 weight or input stored as i32), instead of simulating wrapped values."""

from __future__ import annotations

import numpy as np
import pytest

from trnc.simulator import InputError, prepare_inputs
from trnc.simulator.program import Program, Tensor


def _program() -> Program:
    tensor = Tensor("ids", (2,), "i32", np.dtype(np.int32), 0, 8, "input")
    return Program("p", [tensor], [], [])


def test_integers_beyond_the_hbm_type_are_refused() -> None:
    with pytest.raises(InputError, match=r"input 'ids' holds integers in \[0, 4294967296\]"):
        prepare_inputs(_program(), {"ids": np.array([0, 2**32])}, weights_dir=None, seed=0)


def test_integers_within_the_hbm_type_are_narrowed() -> None:
    data, _ = prepare_inputs(_program(), {"ids": np.array([-5, 7])}, weights_dir=None, seed=0)
    assert data["ids"].dtype == np.int32 and data["ids"].tolist() == [-5, 7]
