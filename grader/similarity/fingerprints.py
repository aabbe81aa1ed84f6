"""Fingerprints of code that survive renaming and reformatting (winnowing, as in MOSS).

Code is tokenized with `tokenize`; comments and blank lines are dropped, every
identifier becomes `V` (except keywords, builtins and attribute names after a dot,
which a copier rarely changes), numbers `N` and strings `S`; line breaks and indents
stay, as structure. Every k consecutive tokens (a k-gram) are hashed; winnowing keeps
the smallest hash of each window of w consecutive k-grams, so two texts that share a
run of at least w + k - 1 tokens share at least one fingerprint.
"""
from __future__ import annotations

import builtins
import hashlib
import io
import keyword
import tokenize
from dataclasses import dataclass, field

K = 10          # tokens per k-gram
WINDOW = 6      # k-grams per winnowing window
KEEP_NAMES = frozenset(dir(builtins)) | {"self", "np", "numpy", "math"}
SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}


@dataclass(frozen=True)
class Token:
    text: str       # normalized
    cell: str       # the answer cell's grade_id
    line: int       # 1-based line in the cell


@dataclass
class Fingerprinted:
    """One text's tokens and its fingerprints: hash -> token positions where a k-gram
    with that hash starts."""
    tokens: list[Token]
    prints: dict[int, list[int]] = field(default_factory=dict)

    def lines(self, hashes: set[int], k: int = K) -> dict[str, set[int]]:
        """cell -> lines covered by the k-grams of `hashes`."""
        covered: dict[str, set[int]] = {}
        for h in hashes:
            for start in self.prints.get(h, []):
                for token in self.tokens[start:start + k]:
                    covered.setdefault(token.cell, set()).add(token.line)
        return covered


def normalize(source: str, cell: str = "") -> list[Token]:
    """The normalized tokens of Python source (IPython magics and shell lines are
    dropped first; text that does not tokenize is cut at the error)."""
    lines = [l if not l.lstrip().startswith(("%", "!")) else "" for l in source.splitlines()]
    tokens: list[Token] = []
    previous = ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            if tok.type in SKIP:
                continue
            if tok.type == tokenize.NAME:
                text = (tok.string if keyword.iskeyword(tok.string) or previous == "."
                        or tok.string in KEEP_NAMES else "V")
            elif tok.type == tokenize.NUMBER:
                text = "N"
            elif tok.type == tokenize.STRING or tok.type in _FSTRING_TYPES:
                text = "S"
            elif tok.type == tokenize.NEWLINE:
                text = ";"
            elif tok.type == tokenize.INDENT:
                text = "{"
            elif tok.type == tokenize.DEDENT:
                text = "}"
            else:
                text = tok.string
            previous = tok.string
            if text == "S" and tokens and tokens[-1].text == "S":
                continue     # an f-string's parts (3.12+) or implicit concatenation: one S
            tokens.append(Token(text, cell, tok.start[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return tokens


_FSTRING_TYPES = {getattr(tokenize, n) for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
                  if hasattr(tokenize, n)}


def _hash(texts: list[str]) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(texts).encode(), digest_size=8).digest(),
                          "big")


def fingerprint(tokens: list[Token], *, k: int = K, window: int = WINDOW) -> Fingerprinted:
    """Winnow the k-gram hashes of `tokens` (the rightmost minimum of each window)."""
    texts = [t.text for t in tokens]
    hashes = [_hash(texts[i:i + k]) for i in range(len(texts) - k + 1)]
    result = Fingerprinted(tokens)
    if not hashes:
        return result
    if len(hashes) < window:
        chosen = {min(range(len(hashes)), key=lambda i: (hashes[i], -i))}
    else:
        chosen = set()
        for start in range(len(hashes) - window + 1):
            chosen.add(min(range(start, start + window), key=lambda i: (hashes[i], -i)))
    for i in sorted(chosen):
        result.prints.setdefault(hashes[i], []).append(i)
    return result


def kgram_hashes(tokens: list[Token], k: int = K) -> set[int]:
    """Every k-gram hash (not winnowed): what a base text rules out."""
    texts = [t.text for t in tokens]
    return {_hash(texts[i:i + k]) for i in range(len(texts) - k + 1)}
