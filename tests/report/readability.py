"""Flesch reading ease, counted with pyphen's hyphenation dictionary (offline).

textstat's ``flesch_reading_ease`` loads NLTK's cmudict, which it downloads on first use: a test must never
download, so the formula is computed here: 206.835 - 1.015 (words / sentences) - 84.6 (syllables / words).
A word's syllables are its hyphenation points (pyphen, en_US, one letter allowed at either edge) plus one, and at
least its vowel groups' count minus a silent final e; a number counts one syllable per digit (as read aloud).
"""

from __future__ import annotations

import re

import pyphen

_DICTIONARY = pyphen.Pyphen(lang="en_US", left=1, right=1)
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|\d+(?:\.\d+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")


def syllables(word: str) -> int:
    if word[0].isdigit():
        return sum(ch.isdigit() for ch in word)
    lower = word.lower()
    hyphenated = len(_DICTIONARY.positions(lower)) + 1
    groups = len(re.findall(r"[aeiouy]+", lower))
    if lower.endswith("e") and not lower.endswith("le") and groups > 1:
        groups -= 1
    return max(hyphenated, groups, 1)


def flesch_reading_ease(text: str) -> float:
    words = _WORD.findall(text)
    sentences = max(len(_SENTENCE_END.findall(text)), 1)
    if not words:
        return 0.0
    total = sum(syllables(w) for w in words)
    return 206.835 - 1.015 * (len(words) / sentences) - 84.6 * (total / len(words))
