#!/usr/bin/env bash
# Installs the tools the chart's tests need (issue 14: being written).
set -euo pipefail
