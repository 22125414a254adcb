#!/usr/bin/env python3
"""Checks the code's shape rules (DEVELOPERS' guide): no Swift file in Sources over 350 lines and no
function, initializer or closure-bodied accessor over 60 lines. Exits 1 listing every breach."""
import pathlib
import re
import sys

MAX_FILE_LINES = 350
MAX_FUNCTION_LINES = 60
DECLARATION = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|package|static|"
                         r"class|final|override|mutating|nonmutating|nonisolated|convenience|required|"
                         r"@inlinable|@usableFromInline|@discardableResult)\s+)*(func\s+\S+|init[?!]?\s*[(<]|deinit\b)")


def code_only(line: str) -> str:
    """The line without string literals and comments, so that their braces do not count."""
    line = re.sub(r'"(?:\\.|[^"\\])*"', '""', line)
    return line.split("//", 1)[0]


def breaches(path: pathlib.Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").split("\n")
    found = []
    if len(lines) - 1 > MAX_FILE_LINES:
        found.append(f"{path}: {len(lines) - 1} lines (limit {MAX_FILE_LINES})")
    in_block_string = False
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.count('"""') % 2 == 1:
            in_block_string = not in_block_string
        match = None if in_block_string else DECLARATION.match(line)
        if match:
            depth, opened, end = 0, False, index
            for end in range(index, len(lines)):
                text = code_only(lines[end])
                depth += text.count("{") - text.count("}")
                opened = opened or "{" in text
                if opened and depth <= 0:
                    break
                if not opened and end > index and lines[end].strip() == "":
                    break  # a protocol requirement: no body
            length = end - index + 1
            if opened and length > MAX_FUNCTION_LINES:
                found.append(f"{path}:{index + 1}: {match.group(1).strip()} is {length} lines (limit {MAX_FUNCTION_LINES})")
        index += 1
    return found


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "Sources")
    problems = [problem for path in sorted(root.rglob("*.swift")) for problem in breaches(path)]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
