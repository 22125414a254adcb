#!/usr/bin/env python3
"""Turns swift-argument-parser's `--experimental-dump-help` JSON (on stdin) into man pages (roff):
one page for the command and one per subcommand (`filesync-server-status.1`). Offline, no plugin."""
import argparse
import json
import os
import sys


def roff(text):
    """Escapes text for roff: backslashes, and a leading dot or quote."""
    text = (text or "").replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.splitlines():
        lines.append("\\&" + line if line.startswith((".", "'")) else line)
    return "\n".join(lines)


def option_line(argument):
    names = []
    for name in argument.get("names", []):
        prefix = {"long": "--", "short": "-", "longWithSingleDash": "-"}.get(name["kind"], "--")
        names.append(prefix + name["name"])
    if argument["kind"] == "positional":
        names = ["<" + argument.get("valueName", "value") + ">"]
    label = ", ".join(names)
    if argument["kind"] == "option":
        label += " <" + argument.get("valueName", "value") + ">"
    return label


def page(command, path, version):
    name = "-".join(path)
    out = [f'.TH "{name.upper()}" "1" "" "filesync {version}" "User Commands"', ".SH NAME",
           f"{roff(name)} \\- {roff(command.get('abstract', ''))}", ".SH SYNOPSIS",
           f".B {roff(' '.join(path))}", "[options]"]
    if command.get("discussion"):
        out += [".SH DESCRIPTION", roff(command["discussion"])]
    arguments = [a for a in command.get("arguments", []) if a.get("shouldDisplay", True)]
    if arguments:
        out.append(".SH OPTIONS")
        for argument in arguments:
            out += [".TP", f".B {roff(option_line(argument))}"]
            text = argument.get("abstract", "")
            if argument.get("defaultValue"):
                text += f" (default: {argument['defaultValue']})"
            out.append(roff(text))
    subcommands = command.get("subcommands", [])
    if subcommands:
        out.append(".SH SUBCOMMANDS")
        for sub in subcommands:
            out += [".TP", f".B {roff(sub['commandName'])}",
                    roff(sub.get("abstract", "")) + f" See \\fB{roff(name + '-' + sub['commandName'])}\\fR(1)."]
    return "\n".join(out) + "\n"


def write(command, path, directory, version):
    path = path + [command["commandName"]]
    with open(os.path.join(directory, "-".join(path) + ".1"), "w") as handle:
        handle.write(page(command, path, version))
    for sub in command.get("subcommands", []):
        write(sub, path, directory, version)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--version", default="")
    options = parser.parse_args()
    info = json.load(sys.stdin)
    os.makedirs(options.out_dir, exist_ok=True)
    write(info["command"], [], options.out_dir, options.version)


if __name__ == "__main__":
    main()
