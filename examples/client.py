#!/usr/bin/env python3
"""A client for the Open Inference Protocol (KServe v2) in Python, standard library only.

Checks the server is ready, reads the model's metadata, sends one inference request as JSON and
prints the outputs (with the top classes for a classifier).

    npx tessera serve --model-repository models &
    python3 examples/client.py --model mnist_cnn [--url http://127.0.0.1:8000] [--input image.json] [--json]

Without --input, each input gets a made-up pattern of its declared shape (open dims: 1), the same
one examples/client.ts sends. Set TESSERA_TOKEN (or --token) when the server asks for a bearer token.
"""
import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


def call(base, path, token=None, body=None):
    """GET (or POST JSON); a non-2xx answer raises RuntimeError with the server's message."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(base + path, data=data, method="GET" if body is None else "POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return json.loads(res.read().decode("utf-8") or "{}")
    except urllib.error.HTTPError as e:
        try:
            message = json.loads(e.read().decode("utf-8")).get("error", e.reason)
        except ValueError:
            message = e.reason
        raise RuntimeError("%s: HTTP %d: %s" % (path, e.code, message)) from None
    except urllib.error.URLError as e:
        raise RuntimeError("%s: cannot reach the server: %s" % (base, e.reason)) from None


def pattern(n):
    """A deterministic pattern in [0, 1)."""
    return [((i * 37) % 101) / 101 for i in range(n)]


def flatten(x):
    if isinstance(x, list):
        return [v for item in x for v in flatten(item)]
    return [x]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=os.environ.get("TESSERA_URL", "http://127.0.0.1:8000"))
    p.add_argument("--model", default="mnist_cnn")
    p.add_argument("--input", help="a JSON file with the (only) input as a nested list")
    p.add_argument("--token", default=os.environ.get("TESSERA_TOKEN"))
    p.add_argument("--json", action="store_true", help="print the raw inference response")
    args = p.parse_args()
    base = args.url.rstrip("/")
    model = urllib.parse.quote(args.model, safe="")
    try:
        call(base, "/v2/health/ready", args.token)
        server = call(base, "/v2", args.token)
        meta = call(base, "/v2/models/" + model, args.token)
        given = None
        if args.input:
            with open(args.input, encoding="utf-8") as f:
                given = flatten(json.load(f))
        inputs = []
        for t in meta["inputs"]:
            shape = [1 if d < 0 else d for d in t["shape"]]
            n = 1
            for d in shape:
                n *= d
            data = given if given is not None and len(meta["inputs"]) == 1 else pattern(n)
            inputs.append({"name": t["name"], "shape": shape, "datatype": t["datatype"], "data": data})
        result = call(base, "/v2/models/%s/infer" % model, args.token, {"inputs": inputs})
    except RuntimeError as e:
        print("client: %s" % e, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
        return 0
    print("%s %s: model %s version %s" % (server["name"], server["version"], result["model_name"], result.get("model_version", "?")))
    for o in result["outputs"]:
        nums = [float(v) for v in o["data"]]
        shown = " ".join("%.4f" % v for v in nums[:10])
        print("%s %s[%s]: %s%s" % (o["name"], o["datatype"], ", ".join(str(d) for d in o["shape"]), shown, " ..." if len(nums) > 10 else ""))
        if o["datatype"].startswith("FP") and len(nums) > 1:
            top = sorted(enumerate(nums), key=lambda iv: (-iv[1], iv[0]))[:3]
            print("  top: " + ", ".join("%d (%.4f)" % (i, v) for i, v in top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
