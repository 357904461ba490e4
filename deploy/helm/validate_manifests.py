"""Validates rendered manifests offline; run by validate.ts with the venv of install-tools.sh.

  python validate_manifests.py --kube-version 1.30.0 --crds DIR < texts.json
  python validate_manifests.py --parse-only < texts.json      (YAML to JSON, nothing checked)

stdin is a JSON list of YAML texts (multi-document each).

Built-in kinds are checked against the Kubernetes OpenAPI schemas of kubernetes-validate
(strict: unknown fields are errors); custom resources against the openAPIV3Schema of
their CRD, made strict the same way (an object that lists its properties admits no
others unless it says x-kubernetes-preserve-unknown-fields). Prints JSON on stdout, one entry per text:
[{"documents": [...], "errors": [{"kind", "name", "message"}]}].
"""
import argparse
import glob
import json
import sys

import jsonschema
import kubernetes_validate
import yaml


# API groups whose kinds are custom resources: checked against a CRD or refused.
CUSTOM_GROUPS = {"keda.sh", "monitoring.coreos.com"}


def strict(schema):
    """A copy of an OpenAPI v3 schema in which listed properties are the only ones allowed."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    # Go's regexp takes an inline flag anywhere; Python's only at the start.
    if isinstance(out.get("pattern"), str) and "(?i)" in out["pattern"]:
        out["pattern"] = "(?i)" + out["pattern"].replace("(?i)", "")
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def load_crds(directory):
    schemas = {}
    for path in sorted(glob.glob(f"{directory}/*.yaml")):
        with open(path) as f:
            crd = yaml.safe_load(f)
        spec = crd["spec"]
        for version in spec["versions"]:
            schema = strict(version["schema"]["openAPIV3Schema"])
            # metadata is checked by the API server itself (ObjectMeta), not by the CRD.
            schema.setdefault("properties", {})["metadata"] = {"type": "object"}
            key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
            schemas[key] = schema
    return schemas


def check(documents, kube_version, crds):
    errors = []
    for doc in documents:
        kind = doc.get("kind", "?")
        name = doc.get("metadata", {}).get("name", "?")
        api_version = doc.get("apiVersion", "?")
        try:
            if (api_version, kind) in crds:
                error = jsonschema.exceptions.best_match(
                    jsonschema.Draft7Validator(crds[(api_version, kind)]).iter_errors(doc)
                )
                if error is not None:
                    raise error
            elif api_version.split("/")[0] in CUSTOM_GROUPS:
                raise ValueError(f"no CRD for {api_version} {kind}")
            else:
                kubernetes_validate.validate(doc, kube_version, strict=True)
        except jsonschema.ValidationError as e:
            path = "/".join(str(p) for p in e.absolute_path)
            errors.append({"kind": kind, "name": name, "message": f"{path}: {e.message}"})
        except Exception as e:  # SchemaNotFoundError, ValueError: a kind nothing can check
            errors.append({"kind": kind, "name": name, "message": str(e)})
    return errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kube-version")
    parser.add_argument("--crds")
    parser.add_argument("--parse-only", action="store_true", help="turn the YAML into JSON, check nothing")
    args = parser.parse_args()
    # stdin: a JSON list of YAML texts (one interpreter for all, the schemas loaded once).
    texts = json.load(sys.stdin)
    sets = [[d for d in yaml.safe_load_all(t) if d is not None] for t in texts]
    if args.parse_only:
        json.dump([{"documents": docs, "errors": []} for docs in sets], sys.stdout)
        return
    if not (args.kube_version and args.crds):
        parser.error("--kube-version and --crds are required unless --parse-only")
    crds = load_crds(args.crds)
    json.dump([{"documents": docs, "errors": check(docs, args.kube_version, crds)} for docs in sets], sys.stdout)


if __name__ == "__main__":
    main()
