"""Keyed random numbers: every draw is a pure function of (run seed, purpose, month, firm id).

A run does not consume one generator in row order. Each draw is a counter-based hash: the
SplitMix64 output function (Steele, Lea & Flood 2014, the finaliser of Stafford's "Mix13"),
applied to ``firm_id * golden + key(seed, purpose, month)``. For a fixed (seed, purpose, month) the
firm ids index one SplitMix64 stream, a generator that passes BigCrush; distinct firm ids give
distinct outputs (both steps are bijections of 64-bit words). The same firm therefore draws the same
productivity shock, quality change, closure chance, entry traits and office luck in every scenario
run on the same seed, whatever other firms do or whichever rows they occupy: the difference between
two scenarios is the policy's, not reshuffled dice (common random numbers at the firm level).

Draws that do not belong to a firm (how many firms enter in a month, the office's stochastic
rounding of its cases) come from ``Keys.generator(purpose, month)``, a numpy Philox generator keyed
the same way.

All arithmetic is on ``uint64`` arrays (wrapping multiplication), with no per-firm Python. One hash
gives two 32-bit uniforms, or two single-precision standard normals by the Box-Muller transform.
"""

from __future__ import annotations

import math
from enum import IntEnum, unique

import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_U_GOLDEN, _U_M1, _U_M2 = np.uint64(GOLDEN), np.uint64(_M1), np.uint64(_M2)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO_M32 = 2.0**-32
_LOW21, _TWO_M21 = np.uint64(0x1FFFFF), 2.0**-21
_S40, _S16, _LOW24 = np.uint64(40), np.uint64(16), np.uint64(0xFFFFFF)
_HALF, _MINUS_TWO = np.float32(0.5), np.float32(-2.0)
_TWO_M24, _TWO_PI_M24 = np.float32(2.0**-24), np.float32(2.0 * np.pi * 2.0**-24)


@unique
class Purpose(IntEnum):
    """What a draw is for; each purpose is its own stream (never reorder: results depend on it)."""
    SHOCKS = 1  # productivity shock and quality change (a normal pair)
    EXIT = 2  # closure for outside reasons, product events, the office's pipeline (a uniform triple)
    ENTRY_COUNT = 3  # how many firms enter this month (generator: one uniform, inverted)
    ENTRANT_TYPE = 4  # growth orientation, market access (a uniform pair)
    ENTRANT_PLACE = 5  # sector and sub-district (a uniform pair)
    ENTRANT_ABILITY = 6  # ability and start-up capital (a normal pair)
    ENTRANT_QUALITY = 7  # product quality (a normal)
    RESAMPLE = 8  # which stationary firms start the run (generator)
    PIPELINE = 9  # (unused since the pipeline's draw joined EXIT's hash; kept: numbers never reused)
    CASES = 10  # the office: stochastic rounding of this month's cases (generator)
    ORDER = 11  # the office: random targeting
    POTENTIAL = 12  # the office: its noisy view of a firm's potential
    INSTRUMENT = 13  # the office: the instrument drawn from the mix
    DIAGNOSIS = 14  # the office: misreading a firm, and what it gives instead (a uniform pair)
    RECORD_LOSS = 15  # an OPD merger: whose records are lost
    ENTRANT_VOLATILITY = 16  # an entrant's first volatility spell: its factor and length (a uniform pair)
    VOLATILITY = 17  # a new volatility spell when the last one ends: factor and length (a uniform pair)
    REVIEW = 18  # whether an owner closes after a losing year (a uniform)
    POOL = 19  # which of a burn-in slice's firms join the stationary population (generator)
    CHAIN = 20  # the seed of each further independent chain of a burn-in (a key)


def _mix_int(x: int) -> int:
    """SplitMix64's output function on one Python integer."""
    x &= MASK
    x = ((x ^ (x >> 30)) * _M1) & MASK
    x = ((x ^ (x >> 27)) * _M2) & MASK
    return x ^ (x >> 31)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's output function, in place on a uint64 array."""
    x ^= x >> _S30
    x *= _U_M1
    x ^= x >> _S27
    x *= _U_M2
    x ^= x >> _S31
    return x


def _to_float(x: np.ndarray) -> np.ndarray:
    """A uint64 array whose values are below 2**63 as float64, through int64 (the same values;
    numpy converts int64 an order of magnitude faster than uint64)."""
    return x.view(np.int64).astype(np.float64)


class Keys:
    """The keyed random numbers of one run (or one burn-in)."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._root = _mix_int(_mix_int(self.seed) + GOLDEN)

    def key(self, purpose: int, month: int) -> int:
        """The stream key of (purpose, month): a 64-bit integer."""
        k = _mix_int(self._root + (int(purpose) + 1) * GOLDEN)
        return _mix_int(k + (int(month) + 2**20) * GOLDEN)  # months may be negative (burn-in)

    def bits(self, purpose: int, month: int, ids: np.ndarray) -> np.ndarray:
        """One 64-bit hash per firm id (uint64 array)."""
        x = np.multiply(np.asarray(ids, np.int64).view(np.uint64), _U_GOLDEN)  # a new array
        with np.errstate(over="ignore"):
            x += np.uint64(self.key(purpose, month))
            return _mix(x)

    def uniform(self, purpose: int, month: int, ids: np.ndarray) -> np.ndarray:
        """A uniform in [0, 1) per firm id (53 bits)."""
        b = self.bits(purpose, month, ids)
        b >>= np.uint64(11)
        return _to_float(b) * 2.0**-53

    def uniform_pair(self, purpose: int, month: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two independent uniforms in (0, 1) per firm id (32 bits each), from one hash."""
        b = self.bits(purpose, month, ids)
        hi = _to_float(b >> _S32)
        hi += 0.5
        hi *= _TWO_M32
        b &= _LOW32
        lo = _to_float(b)
        lo += 0.5
        lo *= _TWO_M32
        return hi, lo

    def uniform_triple(self, purpose: int, month: int, ids: np.ndarray
                       ) -> tuple[Uniform21, Uniform21, Uniform21]:
        """Three independent uniforms in (0, 1) per firm id (21 bits each: steps of 4.8e-7), from
        one hash. Each is a ``Uniform21``: tested against a probability in integer arithmetic, and
        converted to floats only for the rows that need them."""
        b = self.bits(purpose, month, ids)
        return Uniform21(b, 43), Uniform21(b, 22), Uniform21(b, 1)

    def normal_pair(self, purpose: int, month: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two independent standard normals per firm id (float32), by the Box-Muller transform of
        two 24-bit uniforms from one hash (the tails are cut at 5.9 standard deviations)."""
        b = self.bits(purpose, month, ids)
        r = (b >> _S40).astype(np.int32).astype(np.float32)  # (via int32: faster, and exact here)
        b >>= _S16
        b &= _LOW24
        theta = b.astype(np.int32).astype(np.float32)
        r += _HALF
        r *= _TWO_M24
        np.log(r, out=r)
        r *= _MINUS_TWO
        np.sqrt(r, out=r)
        theta += _HALF
        theta *= _TWO_PI_M24
        z1 = np.cos(theta)
        z1 *= r
        np.sin(theta, out=theta)
        theta *= r
        return z1, theta

    def normal(self, purpose: int, month: int, ids: np.ndarray) -> np.ndarray:
        """A standard normal per firm id."""
        return self.normal_pair(purpose, month, ids)[0]

    def generator(self, purpose: int, month: int = 0) -> np.random.Generator:
        """A numpy generator for draws that belong to no firm, keyed by (seed, purpose, month)."""
        k = self.key(purpose, month)
        return np.random.Generator(np.random.Philox(key=[k, _mix_int(k + GOLDEN)]))


class Uniform21:
    """One of the three 21-bit uniforms packed in a hash: the bits ``shift`` to ``shift + 20``, read
    as ``u = (x + 0.5) * 2**-21``, never 0 or 1.

    Most uses only ask which firms drew below a small probability (a closure, a product event, a
    step in the office's pipeline), so ``below(h)`` answers ``u < h`` without making floats: moved
    to the top of the word, the field compares with an integer threshold in one or two whole-array
    operations, with exactly the floats' result (u < h iff x < ceil(h * 2**21 - 0.5)).
    ``u[rows]`` gives the floats of some rows; ``np.asarray(u)`` all of them.
    """

    __slots__ = ("bits", "shift")

    def __init__(self, bits: np.ndarray, shift: int):
        self.bits, self.shift = bits, shift

    def __len__(self) -> int:
        return len(self.bits)

    def below(self, h: float) -> np.ndarray:
        """``u < h`` for every firm (bool array)."""
        c = math.ceil(float(h) * 2.0**21 - 0.5)  # exact: both steps are exact in float64
        if c <= 0:
            return np.zeros(len(self.bits), bool)
        if c >= 2**21:
            return np.ones(len(self.bits), bool)
        top = np.uint64(c << 43)
        if self.shift == 43:
            return self.bits < top
        return (self.bits << np.uint64(43 - self.shift)) < top  # higher fields fall off the word

    def _floats(self, b: np.ndarray) -> np.ndarray:
        x = _to_float((b >> np.uint64(self.shift)) & _LOW21)
        x += 0.5
        x *= _TWO_M21
        return x

    def __getitem__(self, rows) -> np.ndarray:
        return self._floats(self.bits[rows])

    def __array__(self, dtype=None, copy=None):
        u = self._floats(self.bits)
        return u if dtype is None else u.astype(dtype)


def below(u, h: float) -> np.ndarray:
    """``u < h`` for a ``Uniform21`` or a plain array of uniforms."""
    return u.below(h) if isinstance(u, Uniform21) else np.asarray(u) < h


def below_at(u, rows: np.ndarray, h: float) -> np.ndarray:
    """``below(u, h)[rows]``, comparing only those rows' draws."""
    if isinstance(u, Uniform21):
        return Uniform21(u.bits[rows], u.shift).below(h)
    return np.asarray(u)[rows] < h
