"""Read a project's files the way their consumers do, without ever failing on their bytes.

Python decodes a module by its PEP 263 coding cookie or BOM (UTF-8 otherwise); Vercel's CLI reads
vercel.json as plain UTF-8 and does not skip a byte-order mark. Each reader returns the text it could
recover plus what is wrong with the file, so the doctor can report it and go on.
"""

import codecs
import importlib.util
import json
import tomllib
from dataclasses import dataclass


class UnreadableSource(ValueError):
    """Python itself could not decode the module: importing it raises SyntaxError."""


def read_python(path):
    """The module's text as Python decodes it (coding cookie, BOM, universal newlines)."""
    data = path.read_bytes()
    try:
        return importlib.util.decode_source(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as reason:
        raise UnreadableSource(f"Python cannot decode it ({reason})") from None


@dataclass
class JsonFile:
    data: object = None  # None when unreadable
    text: str = ""
    problem: str = ""  # why Vercel cannot read it, "" when it can
    line: int = 1


UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def read_json(path):
    """Parse a JSON file in any common encoding; ``problem`` says what stops Vercel's CLI reading it."""
    raw = path.read_bytes()
    problem = ""
    if raw.startswith(UTF16_BOMS) or (len(raw) > 1 and (raw[0] == 0 or raw[1] == 0)):
        text = raw.decode("utf-16", errors="replace")
        problem = "it is saved as UTF-16, and Vercel reads it as UTF-8"
    elif raw.startswith(codecs.BOM_UTF8):
        text = raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
        problem = "it starts with a byte-order mark (BOM), which Vercel's JSON parser rejects"
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
            problem = "it is not UTF-8"
    text = text.lstrip("\ufeff")
    try:
        return JsonFile(json.loads(text), text, problem)
    except json.JSONDecodeError as error:
        return JsonFile(None, text, f"it is not valid JSON ({error.msg}, line {error.lineno})", error.lineno)


def read_toml(path):
    """The TOML document, or (None, why) when it cannot be parsed."""
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8-sig")), ""
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return None, str(error)


def read_text(path):
    """Any text file, whatever its encoding, for pattern searches."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ""
