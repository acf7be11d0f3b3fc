"""512-bit integer vectors inside numba code: eight uint64 lanes as one value.

numba has no vector type, and LLVM's loop vectorizer on AVX-512 CPUs prefers
256-bit registers (the ``prefer-256-bit`` tuning of Skylake-X and Ice Lake), so
a popcount loop written on scalars runs on half-width ``ymm`` registers. The
type :data:`u64x8` is LLVM's ``<8 x i64>``: numba keeps such values in SSA
registers, and code written with the intrinsics below compiles to one
instruction per operation wherever the CPU has it (``vpxorq``, ``vpopcntq``,
``vpaddq`` on zmm registers with AVX-512 VPOPCNTDQ), and to the best legal
sequence elsewhere (two ymm halves and a nibble-lookup popcount on AVX2; scalar
code on other CPUs) — the same source, exact everywhere.

Intrinsics (all lane-wise on eight uint64 lanes):

* :func:`v_zero` — the zero vector;
* :func:`v_broadcast` (x) — x in every lane;
* :func:`v_load` (flat, offset) — ``flat[offset : offset + 8]`` of a 1-d uint64 or int64 array;
* :func:`v_xor_popcount_add` (acc, x, y) — acc + popcount(x XOR y), the XNOR-popcount step
  (Hubara et al., arXiv:1609.07061, Sec. 2.3);
* :func:`v_store` (flat, offset, v) — ``flat[offset : offset + 8] = v``;
* :func:`v_store_affine_i32` (out, row, col, n, v) — ``out[row, col : col + 8] = n − 2 v`` as
  int32, the ±1 dot product from the mismatch count;
* :func:`v_sign_bits` (n, v, t) — the 8-bit mask [n − 2 v ≥ t], signed lanes: eight sign
  units at once.

No bounds are checked: the callers own the index arithmetic.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model

__all__ = [
    "u64x8",
    "v_zero",
    "v_broadcast",
    "v_load",
    "v_xor_popcount_add",
    "v_store",
    "v_store_affine_i32",
    "v_sign_bits",
]

LANES = 8
_I64 = ir.IntType(64)
_I32 = ir.IntType(32)
_VEC = ir.VectorType(_I64, LANES)
_VEC32 = ir.VectorType(_I32, LANES)


class U64x8(types.Type):
    """numba type of eight uint64 lanes (LLVM ``<8 x i64>``)."""

    def __init__(self) -> None:
        super().__init__(name="u64x8")


u64x8 = U64x8()


@register_model(U64x8)
class _U64x8Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):  # type: ignore[no-untyped-def]
        super().__init__(dmm, fe_type, _VEC)


def _flat_pointer(context, builder, arr_type, arr, offset, offset_type):  # type: ignore[no-untyped-def]
    ary = context.make_array(arr_type)(context, builder, arr)
    o = context.cast(builder, offset, offset_type, types.intp)
    return builder.gep(ary.data, [o])


def _is_flat_u64(arr) -> bool:  # type: ignore[no-untyped-def]
    return isinstance(arr, types.Array) and arr.ndim == 1 and arr.dtype == types.uint64


def _is_flat_64(arr) -> bool:  # type: ignore[no-untyped-def]
    return isinstance(arr, types.Array) and arr.ndim == 1 and arr.dtype in (types.uint64, types.int64)


def _splat(builder, value):  # type: ignore[no-untyped-def]
    """An i64 value in all eight lanes."""
    v = builder.insert_element(ir.Constant(_VEC, ir.Undefined), value, ir.Constant(_I32, 0))
    return builder.shuffle_vector(v, ir.Constant(_VEC, ir.Undefined), ir.Constant(_VEC32, [0] * LANES))


@intrinsic
def v_zero(typingctx):  # type: ignore[no-untyped-def]
    """The vector of eight zero lanes."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return ir.Constant(_VEC, [0] * LANES)

    return u64x8(), codegen


@intrinsic
def v_broadcast(typingctx, x):  # type: ignore[no-untyped-def]
    """x (cast to uint64) in all eight lanes."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return _splat(builder, context.cast(builder, args[0], signature.args[0], types.uint64))

    return u64x8(x), codegen


@intrinsic
def v_load(typingctx, flat, offset):  # type: ignore[no-untyped-def]
    """``flat[offset : offset + 8]`` of a 1-d uint64 or int64 array, as eight 64-bit lanes (unaligned load)."""
    if not (_is_flat_64(flat) and isinstance(offset, types.Integer)):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        ptr = _flat_pointer(context, builder, signature.args[0], args[0], args[1], signature.args[1])
        return builder.load(builder.bitcast(ptr, _VEC.as_pointer()), align=8)

    return u64x8(flat, offset), codegen


@intrinsic
def v_xor_popcount_add(typingctx, acc, x, y):  # type: ignore[no-untyped-def]
    """acc + popcount(x XOR y) in each lane (LLVM ``ctpop`` on ``<8 x i64>``)."""
    if not (acc == u64x8 and x == u64x8 and y == u64x8):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        ctpop = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_VEC, [_VEC]), "llvm.ctpop.v8i64")
        return builder.add(args[0], builder.call(ctpop, [builder.xor(args[1], args[2])]))

    return u64x8(u64x8, u64x8, u64x8), codegen


@intrinsic
def v_store(typingctx, flat, offset, v):  # type: ignore[no-untyped-def]
    """``flat[offset : offset + 8] = v`` for a 1-d uint64 array (unaligned store)."""
    if not (_is_flat_u64(flat) and isinstance(offset, types.Integer) and v == u64x8):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        ptr = _flat_pointer(context, builder, signature.args[0], args[0], args[1], signature.args[1])
        builder.store(args[2], builder.bitcast(ptr, _VEC.as_pointer()), align=8)
        return context.get_dummy_value()

    return types.void(flat, offset, u64x8), codegen


@intrinsic
def v_store_affine_i32(typingctx, out, row, col, n, v):  # type: ignore[no-untyped-def]
    """``out[row, col : col + 8] = n − 2 v`` (int32) for a C-contiguous 2-d int32 array."""
    ok = (
        isinstance(out, types.Array)
        and out.ndim == 2
        and out.layout == "C"
        and out.dtype == types.int32
        and all(isinstance(t, types.Integer) for t in (row, col, n))
        and v == u64x8
    )
    if not ok:
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        shape = cgutils.unpack_tuple(builder, ary.shape, 2)
        r = context.cast(builder, args[1], signature.args[1], types.intp)
        c = context.cast(builder, args[2], signature.args[2], types.intp)
        ptr = builder.gep(ary.data, [builder.add(builder.mul(r, shape[1]), c)])
        nn = context.cast(builder, args[3], signature.args[3], types.int64)
        nv = _splat(builder, nn)
        z = builder.sub(nv, builder.shl(args[4], ir.Constant(_VEC, [1] * LANES)))
        builder.store(builder.trunc(z, _VEC32), builder.bitcast(ptr, _VEC32.as_pointer()), align=4)
        return context.get_dummy_value()

    return types.void(out, row, col, n, u64x8), codegen


@intrinsic
def v_sign_bits(typingctx, n, counts, thresholds):  # type: ignore[no-untyped-def]
    """uint64 whose bit l (l < 8) is set iff n − 2·counts_l ≥ thresholds_l (signed 64-bit lanes):
    the sign unit [A·Bᵀ ≥ T] of eight outputs from their mismatch counts."""
    if not (isinstance(n, types.Integer) and counts == u64x8 and thresholds == u64x8):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        nn = context.cast(builder, args[0], signature.args[0], types.int64)
        nv = _splat(builder, nn)
        z = builder.sub(nv, builder.shl(args[1], ir.Constant(_VEC, [1] * LANES)))
        bits = builder.bitcast(builder.icmp_signed(">=", z, args[2]), ir.IntType(LANES))
        return builder.zext(bits, _I64)

    return types.uint64(n, u64x8, u64x8), codegen
