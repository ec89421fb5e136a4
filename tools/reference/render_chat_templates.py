#!/usr/bin/python3
"""Expected chat-template renderings, made by Python's jinja2 the way HF
transformers' apply_chat_template renders them.

Environment as transformers builds it: ImmutableSandboxedEnvironment with
trim_blocks and lstrip_blocks, the loopcontrols extension and the
{% generation %} tag, tojson = json.dumps(ensure_ascii=False, ...),
raise_exception and strftime_now globals. strftime_now is pinned to
2024-07-26 12:00:00 so the outputs do not depend on the day.

Usage: /usr/bin/python3 tools/reference/render_chat_templates.py \
           <templates dir> <testdata/chat dir>
Reads <testdata/chat>/conversations.json and feature_cases.json, writes
<testdata/chat>/expected/<template>.json and feature_expected.json.
"""
import datetime
import json
import os
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIXED_NOW = datetime.datetime(2024, 7, 26, 12, 0, 0)


class AssistantTracker(Extension):
    """transformers' {% generation %} tag: renders its body unchanged."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return FIXED_NOW.strftime(fmt)


def make_env():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(env, source, context):
    """{"output": text} or {"error": "ExceptionType: message"}."""
    try:
        return {"output": env.from_string(source).render(**context)}
    except Exception as e:  # the C++ side must fail on the same cases
        return {"error": f"{type(e).__name__}: {e}"}


def main():
    templates_dir, out_dir = sys.argv[1], sys.argv[2]
    env = make_env()
    with open(os.path.join(out_dir, "conversations.json"), encoding="utf-8") as f:
        spec = json.load(f)
    os.makedirs(os.path.join(out_dir, "expected"), exist_ok=True)
    for name in sorted(os.listdir(templates_dir)):
        if not name.endswith(".jinja"):
            continue
        with open(os.path.join(templates_dir, name), encoding="utf-8", newline="") as f:
            source = f.read()
        cases = []
        for conv in spec["conversations"]:
            for add_generation_prompt in (False, True):
                context = {
                    "messages": conv["messages"],
                    "tools": conv.get("tools"),
                    "documents": None,
                    "add_generation_prompt": add_generation_prompt,
                    "bos_token": spec["bos_token"],
                    "eos_token": spec["eos_token"],
                }
                case = {"conversation": conv["name"], "add_generation_prompt": add_generation_prompt}
                case.update(render(env, source, context))
                cases.append(case)
        with open(os.path.join(out_dir, "expected", name[: -len(".jinja")] + ".json"), "w", encoding="utf-8") as f:
            json.dump({"template": name, "cases": cases}, f, ensure_ascii=False, indent=1)
            f.write("\n")

    with open(os.path.join(out_dir, "feature_cases.json"), encoding="utf-8") as f:
        features = json.load(f)
    results = []
    for case in features:
        r = {"name": case["name"]}
        r.update(render(env, case["template"], case.get("context", {})))
        results.append(r)
    with open(os.path.join(out_dir, "feature_expected.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
