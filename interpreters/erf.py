"""A vectorized, double-precision error function for numpy (numpy has none).

`erf(x)` evaluates erf elementwise in float64 with the piecewise rational approximations
of Sun Microsystems' fdlibm `s_erf.c` (the algorithm of most C libraries, accurate to
about one ulp in double precision), so float32 results rounded from it are correctly
rounded in nearly every case. Special values: erf(+-0) = +-0, erf(+-inf) = +-1,
erf(nan) = nan.
"""

from __future__ import annotations

import numpy as np

_ERX = 8.45062911510467529297e-01
_EFX = 1.28379167095512586316e-01
# erf on [0, 0.84375]: x + x * PP(x^2) / QQ(x^2)
_PP = (
    1.28379167095512558561e-01,
    -3.25042107247001499370e-01,
    -2.84817495755985104766e-02,
    -5.77027029648944159157e-03,
    -2.37630166566501626084e-05,
)
_QQ = (
    1.0,
    3.97917223959155352819e-01,
    6.50222499887672944485e-02,
    5.08130628187576562776e-03,
    1.32494738004321644526e-04,
    -3.96022827877536812320e-06,
)
# erf on [0.84375, 1.25]: erx + PA(s) / QA(s), s = |x| - 1
_PA = (
    -2.36211856075265944077e-03,
    4.14856118683748331666e-01,
    -3.72207876035701323847e-01,
    3.18346619901161753674e-01,
    -1.10894694282396677476e-01,
    3.54783043256182359371e-02,
    -2.16637559486879084300e-03,
)
_QA = (
    1.0,
    1.06420880400844228286e-01,
    5.40397917702171048937e-01,
    7.18286544141962662868e-02,
    1.26171219808761642112e-01,
    1.36370839120290507362e-02,
    1.19844998467991074170e-02,
)
# erfc on [1.25, 1/0.35]: exp(-x^2 - 0.5625 + RA(s) / SA(s)) / x, s = 1 / x^2
_RA = (
    -9.86494403484714822705e-03,
    -6.93858572707181764372e-01,
    -1.05586262253232909814e01,
    -6.23753324503260060396e01,
    -1.62396669462573470355e02,
    -1.84605092906711035994e02,
    -8.12874355063065934246e01,
    -9.81432934416914548592e00,
)
_SA = (
    1.0,
    1.96512716674392571292e01,
    1.37657754143519042600e02,
    4.34565877475229228821e02,
    6.45387271733267880336e02,
    4.29008140027567833386e02,
    1.08635005541779435134e02,
    6.57024977031928170135e00,
    -6.04244152148580987438e-02,
)
# erfc on [1/0.35, 6]
_RB = (
    -9.86494292470009928597e-03,
    -7.99283237680523006574e-01,
    -1.77579549177547519889e01,
    -1.60636384855821916062e02,
    -6.37566443368389627722e02,
    -1.02509513161107724954e03,
    -4.83519191608651397019e02,
)
_SB = (
    1.0,
    3.03380607434824582924e01,
    3.25792512996573918826e02,
    1.53672958608443695994e03,
    3.19985821950859553908e03,
    2.55305040643316442583e03,
    4.74528541206955367215e02,
    -2.24409524465858183362e01,
)


def _poly(coefficients: tuple[float, ...], z: np.ndarray) -> np.ndarray:
    """`c0 + z * (c1 + z * (c2 + ...))` (Horner)."""
    result = np.full_like(z, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        result = result * z + c
    return result


def erf(x: np.ndarray) -> np.ndarray:
    """erf of every element of `x`, computed and returned in float64."""
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    with np.errstate(all="ignore"):
        z = x * x
        small = x + x * (_poly(_PP, z) / _poly(_QQ, z))
        tiny = x + _EFX * x
        s = ax - 1.0
        mid = _ERX + _poly(_PA, s) / _poly(_QA, s)
        t = 1.0 / (ax * ax)
        ratio = np.where(
            ax < 1.0 / 0.35, _poly(_RA, t) / _poly(_SA, t), _poly(_RB, t) / _poly(_SB, t)
        )
        # |x| with the low 32 bits of its mantissa cleared, as fdlibm does, so that
        # exp(-zh * zh) is exact enough and the rest goes into the second factor.
        zh = (ax.view(np.uint64) & np.uint64(0xFFFFFFFF00000000)).view(np.float64)
        r = np.exp(-zh * zh - 0.5625) * np.exp((zh - ax) * (zh + ax) + ratio)
        large = 1.0 - r / ax
        magnitude = np.select(
            [ax < 2.0**-28, ax < 0.84375, ax < 1.25, ax >= 6.0],
            [np.abs(tiny), np.abs(small), mid, np.ones_like(ax)],
            large,
        )
    return np.copysign(magnitude, x)
