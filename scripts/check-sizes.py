#!/usr/bin/env python3
"""Size check of the Odoo addons (issue #13): no file over MAX_FILE_LINES lines, no Python
function or method over MAX_FUNCTION_LINES lines (its whole body, decorators excluded, nested
functions counted in their parent and on their own).

Usage: python3 scripts/check-sizes.py [--strict] [addons dir ...]   (default: odoo_addon)
Prints one line per violation, largest first, then the largest file and function left; exits 1
when there is a violation. ``PENDING`` lists the few known ones that another piece of work owns
(printed as "pending", not counted unless ``--strict``); remove an entry once it is fixed. Files checked: .py, .xml, .js, .csv, .scss under the addons (tests
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
# known violations owned by other work in progress (issue #13): path or "path:function" -> why
PENDING = {}


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
    strict = "--strict" in argv
    argv = [a for a in argv if a != "--strict"]
    roots = argv[1:] or [os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "odoo_addon")]
    too_long_files, too_long_functions = [], []
    largest_file, largest_function = ("", 0), ("", 0)
    for path in addon_files(roots):
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
        lines = source.count("\n") + (0 if source.endswith("\n") or not source else 1)
        rel = os.path.relpath(path, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        if rel not in PENDING:
            largest_file = max(largest_file, (rel, lines), key=lambda x: x[1])
        if lines > MAX_FILE_LINES:
            too_long_files.append((lines, rel, rel))
        if path.endswith(".py"):
            for name, lineno, count in functions(path, source):
                where = f"{rel}:{lineno} {name}"
                if f"{rel}:{name}" not in PENDING:
                    largest_function = max(largest_function, (where, count), key=lambda x: x[1])
                if count > MAX_FUNCTION_LINES:
                    too_long_functions.append((count, where, f"{rel}:{name}"))
    violations = 0
    for kind, found, limit in (("file", too_long_files, MAX_FILE_LINES), ("function", too_long_functions,
                                                                          MAX_FUNCTION_LINES)):
        for count, where, key in sorted(found, reverse=True):
            pending = PENDING.get(key)
            if pending and not strict:
                print(f"pending {kind} {where}: {count} lines (max {limit}): {pending}")
            else:
                print(f"{kind} {where}: {count} lines (max {limit})")
                violations += 1
    print(f"largest file (not pending): {largest_file[0]} ({largest_file[1]} lines); "
          f"largest function: {largest_function[0]} ({largest_function[1]} lines)")
    print(f"check-sizes: {violations} violation(s)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
