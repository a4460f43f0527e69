#!/bin/sh
# Bazel workspace status: the source revision stamped into clmd and clmctl
# (GetVersion's "build"). Works without git (prints "unknown").
rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ "$rev" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    rev="$rev-dirty"
fi
echo "STABLE_CLM_REVISION $rev"
echo "STABLE_CLM_BUILD_DATE $(date -u +%Y-%m-%d)"
