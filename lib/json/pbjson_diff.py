#!/usr/bin/python3
"""Differential test of lib/json (pbjson) against google.protobuf.json_format.

Usage: pbjson_diff.py TOOL CASES PB2_MODULE_FILE

TOOL is pbjson_diff_tool (the C side), CASES the case file (see its header) and
PB2_MODULE_FILE the protoc --python_out module of the test messages. Run with Debian's
/usr/bin/python3, which has python3-protobuf.

For every case both sides parse the same JSON text. When both accept it:
  1. the bytes pbjson packs, parsed by python, equal python's own message
     (compared as deterministic serializations, so map order does not matter);
  2. python parses pbjson's printed JSON back to the same message;
  3. pbjson's printed JSON and json_format.MessageToJson say the same thing, as JSON
     values (numbers compared as float32 where the decimal forms differ), with and
     without default values (PBJSON_EMIT_DEFAULTS / including_default_value_fields;
     proto2 messages only without: json_format prints unset proto2 optionals there);
  4. pbjson parses json_format's output (ASCII-escaped) to the same message.
Cases marked stricter or looser are the known differences; the test checks that
they still differ in the stated direction.
The last line printed is "N passed, N failed".
"""
import json
import os
import struct
import subprocess
import sys

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def run_tool(tool, lines):
    """One answer per "<type> <json>" line: ("OK", hex, json, json_defaults) or ("ERR", msg)."""
    out = subprocess.run([tool], input="".join(l + "\n" for l in lines).encode(),
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    answers = [line.split("\t") for line in out.split("\n")[:-1]]
    if len(answers) != len(lines):
        raise SystemExit("tool gave %d answers for %d lines" % (len(answers), len(lines)))
    return answers


def float32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def same_json(a, b):
    """JSON values equal; numbers equal as float32 when they differ as doubles."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and \
            not isinstance(a, bool) and not isinstance(b, bool):
        return a == b or float32(a) == float32(b)
    return type(a) is type(b) and a == b


def read_cases(path):
    cases = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        expect, kind, text = line.split(" ", 2)
        cases.append((expect, kind, text))
    return cases


def main():
    tool, cases_path, pb2_file = sys.argv[1:4]
    sys.path.insert(0, os.path.dirname(os.path.abspath(pb2_file)))
    from google.protobuf import json_format
    import pbjson_test2_pb2
    import pbjson_test_pb2

    types = {"all": pbjson_test_pb2.AllTypes, "legacy": pbjson_test2_pb2.Legacy}

    def serialize(msg):
        return msg.SerializePartialToString(deterministic=True)

    cases = read_cases(cases_path)
    answers = run_tool(tool, ["%s %s" % (kind, text) for _, kind, text in cases])
    python_json = []  # (kind, message, json_format's JSON) for step 4
    for (expect, kind, text), answer in zip(cases, answers):
        cls = types[kind]
        try:
            py = json_format.Parse(text, cls())
            py_error = None
        except Exception as e:  # not only ParseError: some input makes it TypeError
            py, py_error = None, "%s: %s" % (type(e).__name__, e)
        c_ok = answer[0] == "OK"
        if expect == "bad":
            check(not c_ok, "pbjson accepts bad %s" % text)
            check(py_error is not None, "json_format accepts bad %s" % text)
            continue
        if expect == "stricter":
            check(not c_ok, "pbjson accepts %s" % text)
            check(py_error is None, "json_format now refuses %s: %s" % (text, py_error))
            continue
        if expect == "looser":
            check(c_ok, "pbjson refuses %s: %s" % (text, answer[-1]))
            check(py_error is not None, "json_format now accepts %s" % text)
            continue
        check(c_ok, "pbjson refuses %s: %s" % (text, answer[-1]))
        check(py_error is None, "json_format refuses %s: %s" % (text, py_error))
        if not c_ok or py_error is not None:
            continue
        _, packed, c_json, c_json_defaults = answer
        from_c = cls.FromString(bytes.fromhex(packed))
        check(serialize(from_c) == serialize(py),
              "%s: pbjson's message %s differs from json_format's %s" % (text, from_c, py))
        try:
            back = json_format.Parse(c_json, cls())
            check(serialize(back) == serialize(py),
                  "%s: json_format reads pbjson's %s as another message" % (text, c_json))
        except json_format.ParseError as e:
            check(False, "%s: json_format refuses pbjson's output %s: %s" % (text, c_json, e))
        py_json = json_format.MessageToJson(py, indent=None)
        check(same_json(json.loads(c_json), json.loads(py_json)),
              "%s: printed\n  pbjson      %s\n  json_format %s" % (text, c_json, py_json))
        if kind != "legacy":
            py_json_defaults = json_format.MessageToJson(
                py, indent=None, including_default_value_fields=True)
            check(same_json(json.loads(c_json_defaults), json.loads(py_json_defaults)),
                  "%s: printed with defaults\n  pbjson      %s\n  json_format %s"
                  % (text, c_json_defaults, py_json_defaults))
        python_json.append((kind, py, py_json))

    # Step 4: pbjson reads what json_format writes.
    answers = run_tool(tool, ["%s %s" % (kind, j) for kind, _, j in python_json])
    for (kind, py, py_json), answer in zip(python_json, answers):
        check(answer[0] == "OK", "pbjson refuses json_format's %s: %s" % (py_json, answer[-1]))
        if answer[0] == "OK":
            from_c = types[kind].FromString(bytes.fromhex(answer[1]))
            check(serialize(from_c) == serialize(py),
                  "pbjson reads json_format's %s as another message" % py_json)

    print("%d cases; %d passed, %d failed" % (len(cases), passed, failed))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
