#!/usr/bin/env python3
"""Prints a policy with N generated rules on top of the balanced preset, the
same mix as the policy benches (crates/policy/benches/evaluate.rs): 70 %
command rules on distinct programs, 10 % wildcard command rules, 10 % path
rules, 10 % tool + argument rules.

    scripts/gen-policy.py 1000 > /tmp/rules1000.yaml
    scripts/bench-hook.sh 300 --policy /tmp/rules1000.yaml
"""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
print("version: 1\ndefault: defer\npresets: [balanced]\nrules:")
for i in range(n):
    kind = i % 10
    if kind <= 6:
        print(f'  - name: cmd-{i}\n    match: {{ tool: exec, command: ["tool{i} deploy *", "tool{i} delete --all*"] }}\n    action: ask')
    elif kind == 7:
        print(f'  - name: wild-{i}\n    match: {{ command: "*--secret-{i}*" }}\n    action: deny')
    elif kind == 8:
        print(f'  - name: path-{i}\n    match: {{ tool: read, path: "/srv/data{i}/**" }}\n    severity: high')
    else:
        print(f'  - name: api-{i}\n    match: {{ tool: api_{i}, args: {{ amount: {{ gt: {i} }} }} }}\n    action: ask')
