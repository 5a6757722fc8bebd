"""CIM values as WS-Management text: typing, datetimes, and canonical text.

In a WS-Management message every CIM value is text (DSP0230, the WS-CIM
mapping, sections 7-8): integers in decimal, booleans as ``true``/``false``,
reals as ``xs:float``/``xs:double`` (``INF``, ``-INF``, ``NaN``), strings as
they are, and datetimes wrapped in one of the ``cim:cimDateTime`` choices
(``cim:Datetime`` = ``xs:dateTime``, ``cim:Interval`` = ``xs:duration``,
``cim:Date``, ``cim:Time``, ``cim:CIM_DateTime`` = the CIM string, DSP0230
8.2). Nothing in the XML says which CIM type a text has, so:

* :func:`decode_text` types a text when the CIM type is known (from a
  ``CIMClass``'s property declaration);
* :func:`encode_scalar` and :func:`datetime_to_xml` write a pywbem value;
* :func:`canonical_text` maps a typed or an untyped value to one text, so
  that comparing a typed value with its untyped twin never reports a false
  mismatch: ``Uint16(1)``, ``"1"`` and ``"+01"`` all give ``"1"``; ``True``,
  ``"true"`` and ``"TRUE"`` give ``"true"``; a ``CIMDateTime`` and its
  ``xs:dateTime`` text give the same CIM datetime string. The price is the
  other direction: two different strings that read as the same number,
  boolean or datetime (``"007"`` and ``"7"``) compare equal unless the CIM
  type is passed; and ``xs:boolean``'s ``"1"``/``"0"`` read as booleans only
  when the type says boolean (untyped, they are numbers).
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

from pywbem import CIMDateTime, CIMInstance, CIMInstanceName, type_from_name

__all__ = ["WsmanDecodeError", "decode_text", "encode_scalar", "datetime_to_xml",
           "datetime_from_xml", "datetime_from_text", "canonical_text", "DATETIME_TAGS"]

#: DSP0230 8.2: the children of a cim:cimDateTime value (compared case-insensitively)
DATETIME_TAGS = ("Datetime", "Interval", "Date", "Time", "CIM_DateTime")

_INT_TYPES = {"uint8", "uint16", "uint32", "uint64", "sint8", "sint16", "sint32", "sint64"}
_REAL_TYPES = {"real32", "real64"}
_INT = re.compile(r"^[+-]?\d+$")
_REAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_XS_DATETIME = re.compile(r"^(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?"
                          r"(Z|[+-]\d\d:\d\d)?$")
_XS_DATE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)(Z|[+-]\d\d:\d\d)?$")
_XS_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$")
_XS_DURATION = re.compile(r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
                          r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d+))?S)?)?$")
_CIM_DATETIME = re.compile(r"^[\d*]{14}\.[\d*]{6}[+\-:][\d*]{3}$")


class WsmanDecodeError(ValueError):
    """A text that is not a value of the CIM type it should have; one line."""


def _offset_minutes(zone):
    if not zone or zone == "Z":
        return 0
    sign = -1 if zone[0] == "-" else 1
    return sign * (int(zone[1:3]) * 60 + int(zone[4:6]))


def _utc_suffix(minutes):
    return f"{'-' if minutes < 0 else '+'}{abs(minutes):03d}"


def _micro(fraction):
    return (fraction or ".")[1:].ljust(6, "0")[:6]


def datetime_from_xml(tag, text):
    """The ``CIMDateTime`` of a ``cim:<tag>`` wrapper (DSP0230 8.2) holding ``text``."""
    text = (text or "").strip()
    kind = tag.lower()
    try:
        if kind == "cim_datetime":
            return CIMDateTime(text)
        if kind == "interval":
            return _from_duration(text)
        if kind == "datetime":
            return _from_xs_datetime(text)
        if kind == "date":
            match = _XS_DATE.match(text)
            if match:
                year, month, day, zone = match.groups()
                return CIMDateTime(f"{year}{month}{day}******.******"
                                   f"{_utc_suffix(_offset_minutes(zone))}")
        if kind == "time":
            match = _XS_TIME.match(text)
            if match:
                hour, minute, second, fraction, zone = match.groups()
                # CIM has no time-of-day value without a date: the day is 0000-01-01
                return CIMDateTime(f"00000101{hour}{minute}{second}.{_micro(fraction)}"
                                   f"{_utc_suffix(_offset_minutes(zone))}")
    except (ValueError, TypeError) as exc:
        raise WsmanDecodeError(f"cim:{tag} {text[:60]!r} is not a CIM datetime: {exc}") from None
    raise WsmanDecodeError(f"cim:{tag} {text[:60]!r} is not a CIM datetime")


def _from_xs_datetime(text):
    match = _XS_DATETIME.match(text)
    if not match:
        raise ValueError("not an xs:dateTime")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    return CIMDateTime(f"{int(year):04d}{month}{day}{hour}{minute}{second}.{_micro(fraction)}"
                       f"{_utc_suffix(_offset_minutes(zone))}")


def _from_duration(text):
    match = _XS_DURATION.match(text)
    if not match:
        raise ValueError("not an xs:duration")
    years, months, days, hours, minutes, seconds, fraction = match.groups()
    if int(years or 0) or int(months or 0):
        raise ValueError("an xs:duration in years or months has no CIM interval")
    return CIMDateTime(timedelta(days=int(days or 0), hours=int(hours or 0),
                                 minutes=int(minutes or 0), seconds=int(seconds or 0),
                                 microseconds=int(_micro("." + (fraction or "")))))


def datetime_from_text(text):
    """A ``CIMDateTime`` from an unwrapped text: CIM form, ``xs:dateTime`` or ``xs:duration``."""
    text = (text or "").strip()
    if _CIM_DATETIME.match(text):
        return datetime_from_xml("CIM_DateTime", text)
    if text.startswith("P"):
        return datetime_from_xml("Interval", text)
    return datetime_from_xml("Datetime", text)


def datetime_to_xml(value):
    """``(tag, text)`` for a ``CIMDateTime``: ``Datetime``/``Interval``, or
    ``CIM_DateTime`` for a value with wildcards, which XML Schema cannot say."""
    if not isinstance(value, CIMDateTime):
        value = CIMDateTime(value)
    if value.precision is not None:
        return "CIM_DateTime", str(value)
    if value.is_interval:
        delta = value.timedelta
        seconds = delta.seconds % 60
        text = (f"P{delta.days}DT{delta.seconds // 3600}H{(delta.seconds // 60) % 60}M"
                f"{seconds}" + (f".{delta.microseconds:06d}" if delta.microseconds else "") + "S")
        return "Interval", text
    stamp = value.datetime
    offset = value.minutes_from_utc
    zone = "Z" if offset == 0 else (f"{'-' if offset < 0 else '+'}"
                                    f"{abs(offset) // 60:02d}:{abs(offset) % 60:02d}")
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if stamp.microsecond:
        text += f".{stamp.microsecond:06d}"
    return "Datetime", text + zone


def _real_text(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    return repr(float(value))


def encode_scalar(value):
    """The DSP0230 text of a scalar that is not a datetime or a reference."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _real_text(value)
    if isinstance(value, CIMDateTime):
        return datetime_to_xml(value)[1]
    return str(value)


def decode_text(text, cim_type):
    """``text`` as a value of ``cim_type`` (a pywbem type name); ``string``,
    ``char16`` and unknown types keep the text. Raises :class:`WsmanDecodeError`."""
    if text is None:
        return None
    if cim_type in ("string", "char16", None):
        return text
    stripped = text.strip()
    try:
        if cim_type == "boolean":
            lowered = stripped.lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
            raise ValueError("not a boolean")
        if cim_type in _INT_TYPES:
            if not _INT.match(stripped):
                raise ValueError("not an integer")
            return type_from_name(cim_type)(int(stripped))
        if cim_type in _REAL_TYPES:
            special = {"inf": "inf", "+inf": "inf", "-inf": "-inf", "nan": "nan"}
            return type_from_name(cim_type)(float(special.get(stripped.lower(), stripped)))
        if cim_type == "datetime":
            return datetime_from_text(stripped)
    except WsmanDecodeError:
        raise
    except (ValueError, TypeError) as exc:
        raise WsmanDecodeError(f"{stripped[:60]!r} is not a {cim_type} value: {exc}") from None
    return text


def _canonical_number(text):
    if _INT.match(text):
        return str(int(text))
    if _REAL.match(text) or text.lower() in ("inf", "+inf", "-inf", "nan"):
        number = float({"inf": "inf", "+inf": "inf"}.get(text.lower(), text))
        return _canonical_real(number)
    return None


def _canonical_real(number):
    if math.isfinite(number) and number == int(number) and abs(number) < 2 ** 63:
        return str(int(number))
    return _real_text(number)


def _canonical_path(path):
    keys = ",".join(f"{name.lower()}={canonical_text(path.keybindings[name])}"
                    for name in sorted(path.keybindings, key=str.lower))
    return f"{path.classname.lower()}.{keys}"


def canonical_text(value, cim_type=None):
    """One text per CIM value, typed or not, for comparisons (see the module docstring).

    Lists give lists; ``None`` gives ``None``; a ``CIMInstanceName`` gives
    ``classname.key=value,...`` (lower-cased names, sorted keys, host and
    namespace left out: an EPR may legitimately omit the namespace)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [canonical_text(item, cim_type) for item in value]
    if isinstance(value, CIMInstanceName):
        return _canonical_path(value)
    if isinstance(value, CIMInstance):
        return value.tomof()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _canonical_real(value)
    if isinstance(value, CIMDateTime):
        return str(value)
    if not isinstance(value, str):
        try:
            return str(CIMDateTime(value))
        except (ValueError, TypeError):
            return str(value)
    if cim_type in ("string", "char16"):
        return value
    if cim_type is not None:
        try:
            return canonical_text(decode_text(value, cim_type))
        except WsmanDecodeError:
            return value
    stripped = value.strip()
    if stripped.lower() in ("true", "false"):
        return stripped.lower()
    number = _canonical_number(stripped)
    if number is not None:
        return number
    if _CIM_DATETIME.match(stripped) or _XS_DATETIME.match(stripped) or (
            stripped.startswith("P") and _XS_DURATION.match(stripped)):
        try:
            return str(datetime_from_text(stripped))
        except WsmanDecodeError:
            return value
    return value
