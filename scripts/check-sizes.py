#!/usr/bin/env python3
"""Size check of the Odoo addons (issue #13): no file over MAX_FILE_LINES lines, no Python
function or method over MAX_FUNCTION_LINES lines (its whole body, decorators excluded, nested
functions counted in their parent and on their own).

Usage: python3 scripts/check-sizes.py [addons dir ...]   (default: odoo_addon)
Prints one line per violation, largest first, then the largest file and function left; exits 1
when there is a violation. Files checked: .py, .xml, .js, .csv, .scss under the addons (tests
included; i18n catalogues, which grow with every translatable string, and static/description
excluded).
"""

import ast
import os
import sys

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60
EXTENSIONS = (".py", ".xml", ".js", ".csv", ".scss")
SKIP_DIRS = {"i18n", "__pycache__", "description", "node_modules"}


def addon_files(roots):
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            for name in sorted(files):
                if name.endswith(EXTENSIONS):
                    yield os.path.join(folder, name)


def functions(path, source):
    """(qualified name, first line, line count) of every function of a Python file."""
    tree = ast.parse(source, path)

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                yield name, child.lineno, child.end_lineno - child.lineno + 1
                yield from walk(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def main(argv):
    roots = argv[1:] or [os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "odoo_addon")]
    too_long_files, too_long_functions = [], []
    largest_file, largest_function = ("", 0), ("", 0)
    for path in addon_files(roots):
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
        lines = source.count("\n") + (0 if source.endswith("\n") or not source else 1)
        rel = os.path.relpath(path)
        largest_file = max(largest_file, (rel, lines), key=lambda x: x[1])
        if lines > MAX_FILE_LINES:
            too_long_files.append((lines, rel))
        if path.endswith(".py"):
            for name, lineno, count in functions(path, source):
                where = f"{rel}:{lineno} {name}"
                largest_function = max(largest_function, (where, count), key=lambda x: x[1])
                if count > MAX_FUNCTION_LINES:
                    too_long_functions.append((count, where))
    for lines, rel in sorted(too_long_files, reverse=True):
        print(f"file {rel}: {lines} lines (max {MAX_FILE_LINES})")
    for count, where in sorted(too_long_functions, reverse=True):
        print(f"function {where}: {count} lines (max {MAX_FUNCTION_LINES})")
    print(f"largest file: {largest_file[0]} ({largest_file[1]} lines); "
          f"largest function: {largest_function[0]} ({largest_function[1]} lines)")
    violations = len(too_long_files) + len(too_long_functions)
    print(f"check-sizes: {violations} violation(s)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
