"""The type lattice: which conversions are lossless (widening) and which lose values.

Rule: an input is compatible when every value of the app's type converts to the model's type
without loss; an output when every value of the model's type fits the app's type.
"""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("src", "dst", "verdict"),
    [
        # same type under two spellings (MLflow column type vs numpy tensor dtype)
        ("long", "int64", "same"),
        ("integer", "int32", "same"),
        ("double", "float64", "same"),
        ("float", "float32", "same"),
        ("boolean", "bool", "same"),
        ("string", "str", "same"),
        ("binary", "bytes", "same"),
        # integer widening
        ("int8", "int16", "widening"),
        ("int32", "int64", "widening"),
        ("integer", "long", "widening"),
        ("uint8", "uint64", "widening"),
        ("uint8", "int16", "widening"),
        ("uint32", "int64", "widening"),
        # integer narrowing / sign
        ("int64", "int32", "narrowed"),
        ("long", "integer", "narrowed"),
        ("uint32", "int32", "narrowed"),
        ("int8", "uint8", "narrowed"),
        ("int8", "uint64", "narrowed"),
        # integer -> float: exact while the significand holds every value
        ("int8", "float16", "widening"),
        ("uint8", "float16", "widening"),
        ("int16", "float16", "narrowed"),
        ("int16", "float32", "widening"),
        ("uint16", "float32", "widening"),
        ("integer", "float", "narrowed"),
        ("integer", "double", "widening"),
        ("uint32", "float64", "widening"),
        ("long", "double", "narrowed"),
        ("uint64", "float64", "narrowed"),
        # float
        ("float16", "float32", "widening"),
        ("float", "double", "widening"),
        ("float64", "float32", "narrowed"),
        ("double", "float", "narrowed"),
        ("float32", "int64", "narrowed"),
        ("double", "long", "narrowed"),
        # different kinds never convert
        ("boolean", "integer", "incompatible"),
        ("integer", "boolean", "incompatible"),
        ("string", "long", "incompatible"),
        ("long", "string", "incompatible"),
        ("string", "binary", "incompatible"),
        ("datetime", "string", "incompatible"),
        ("string", "object", "incompatible"),
        ("object", "object", "same"),
        ("datetime", "datetime", "same"),
    ],
)
def test_conversion_lattice(cc, src, dst, verdict):
    assert cc.conversion(src, dst)[0] == verdict


def test_every_known_type_is_the_same_as_itself_and_classified_against_every_other(cc):
    verdicts = {"same", "widening", "narrowed", "incompatible"}
    for src in cc.KNOWN_TYPES:
        assert cc.conversion(src, src) == ("same", "same type")
        for dst in cc.KNOWN_TYPES:
            assert cc.conversion(src, dst)[0] in verdicts


def test_widening_is_never_symmetric(cc):
    """If A widens to B (and they are different types), B must not widen back to A."""
    for src in cc.KNOWN_TYPES:
        for dst in cc.KNOWN_TYPES:
            if cc.conversion(src, dst)[0] == "widening":
                assert cc.conversion(dst, src)[0] in ("narrowed", "incompatible"), (src, dst)


def test_widening_is_transitive(cc):
    known = list(cc.KNOWN_TYPES)
    ok = {"same", "widening"}
    for a in known:
        for b in known:
            if cc.conversion(a, b)[0] not in ok:
                continue
            for c in known:
                if cc.conversion(b, c)[0] in ok:
                    assert cc.conversion(a, c)[0] in ok, (a, b, c)


def test_mlflow_type_names_match_mlflow(cc):
    # mlflow.types.DataType members (MLflow 2.x): boolean integer long float double string binary datetime
    assert list(cc.MLFLOW_TYPES) == ["boolean", "integer", "long", "float", "double", "string", "binary", "datetime"]
