"""Validates rendered manifests offline; run by validate.ts with the venv of install-tools.sh.

  python validate_manifests.py --kube-version 1.30.0 --crds DIR < manifests.yaml

Built-in kinds are checked against the Kubernetes OpenAPI schemas of kubernetes-validate
(strict: unknown fields are errors); custom resources against the openAPIV3Schema of
their CRD, made strict the same way (an object that lists its properties admits no
others unless it says x-kubernetes-preserve-unknown-fields). Prints JSON on stdout:
{"documents": [...], "errors": [{"kind", "name", "message"}]}.
"""
import argparse
import glob
import json
import sys

import jsonschema
import kubernetes_validate
import yaml


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kube-version", required=True)
    parser.add_argument("--crds", required=True)
    args = parser.parse_args()
    crds = load_crds(args.crds)
    documents = [d for d in yaml.safe_load_all(sys.stdin) if d is not None]
    errors = []
    for doc in documents:
        kind = doc.get("kind", "?")
        name = doc.get("metadata", {}).get("name", "?")
        api_version = doc.get("apiVersion", "?")
        try:
            if "." in api_version.split("/")[0] and not api_version.endswith(".k8s.io/v1") and (api_version, kind) in crds:
                error = jsonschema.exceptions.best_match(
                    jsonschema.Draft7Validator(crds[(api_version, kind)]).iter_errors(doc)
                )
                if error is not None:
                    raise error
            elif "/" in api_version and (api_version, kind) not in crds and api_version.split("/")[0] in {
                "keda.sh",
                "monitoring.coreos.com",
            }:
                raise ValueError(f"no CRD for {api_version} {kind}")
            else:
                kubernetes_validate.validate(doc, args.kube_version, strict=True)
        except jsonschema.ValidationError as e:
            path = "/".join(str(p) for p in e.absolute_path)
            errors.append({"kind": kind, "name": name, "message": f"{path}: {e.message}"})
        except Exception as e:  # SchemaNotFoundError, ValueError: a kind nothing can check
            errors.append({"kind": kind, "name": name, "message": str(e)})
    json.dump({"documents": documents, "errors": errors}, sys.stdout)


if __name__ == "__main__":
    main()
