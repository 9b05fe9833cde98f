"""Processes the tests look for: every descendant of a process, and whether
one is still alive (Linux /proc; a zombie counts as gone)."""

from __future__ import annotations

import os
from pathlib import Path


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their children, ...)."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                kids = [int(k) for k in Path(f"/proc/{parent}/task/{task}/children")
                        .read_text().split()]
            except OSError:
                continue
            found.update(kids)
            todo.extend(kids)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, or no such process: False)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False
