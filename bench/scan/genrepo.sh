#!/bin/sh
# genrepo.sh DIR: a synthetic history for `slickenv scan --history`
# benchmarks: Go's own source tree (GOROOT/src) as the first commit, then 40
# commits that each append a line to 300 random .go files (so most blobs
# exist in several versions), with one planted Stripe key at commit 21.
set -eu
dir=${1:?usage: genrepo.sh DIR}
mkdir -p "$dir"
cd "$dir"
git init -q -b main
cp -r "$(go env GOROOT)/src" ./src
git add -A
GIT_AUTHOR_DATE=2024-01-01T00:00:00Z GIT_COMMITTER_DATE=2024-01-01T00:00:00Z \
	git -c user.name=Gen -c user.email=gen@example.com commit -qm init
python3 - <<'PY'
import os, random, subprocess
random.seed(1)
files = [os.path.join(r, f) for r, _, fs in os.walk('src') for f in fs if f.endswith('.go')]
for c in range(40):
    for f in random.sample(files, 300):
        with open(f, 'a') as fh:
            fh.write('\n// edit %d\n' % c)
    if c == 20:
        with open('src/leak.env', 'w') as fh:
            fh.write('STRIPE_SECRET_KEY=sk_live_51HqLyjW8aB3kZ9xQ2mN7pR4tV6yC1dE0fG\n')
    date = '2024-%02d-%02dT00:00:00Z' % (1 + c // 4, 1 + c % 28)
    env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    git = ['git', '-c', 'user.name=Gen', '-c', 'user.email=gen@example.com']
    subprocess.run(git + ['add', '-A'], check=True, env=env)
    subprocess.run(git + ['commit', '-qm', 'c%d' % c], check=True, env=env)
PY
git gc -q --prune=now
