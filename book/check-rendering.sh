#!/usr/bin/env bash
# Renders two chapters of the book (PPO's, in "Policy gradients", and LQR's) in headless
# Chromium and checks that the math was typeset: KaTeX's `.katex` elements are present and no
# raw `$$` is left in the page's text outside code. Writes a screenshot of each page to look at.
#
#   bash book/check-rendering.sh [OUT_DIR]        (default: book/build-check/)
#
# Needs mdbook (`cargo install mdbook --locked`), Chromium (`apt-get install chromium`), and
# KaTeX: from its CDN if the machine reaches it, else from the npm registry
# (`npm pack katex@0.16.22`), in which case the pages are checked against that local copy —
# the same files, checked by the same integrity hashes. Not part of `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-book/build-check}"
katex_version=0.16.22
cdn="https://cdn.jsdelivr.net/npm/katex@${katex_version}/dist/"

chromium_bin="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$chromium_bin" ] || { echo "no Chromium: apt-get install chromium" >&2; exit 2; }
command -v mdbook >/dev/null || { echo "no mdbook: cargo install mdbook --locked" >&2; exit 2; }

rm -rf "$out" && mkdir -p "$out"
mdbook build book --dest-dir "$PWD/$out/site" >/dev/null

# KaTeX from the CDN when reachable, else a local copy from the npm registry.
if ! curl -fsS --max-time 5 -o /dev/null "${cdn}katex.min.js" 2>/dev/null; then
    (cd "$out" && npm pack --silent "katex@${katex_version}" >/dev/null && tar xzf "katex-${katex_version}.tgz")
    local_dist="file://$PWD/$out/package/dist/"
    find "$out/site" -name '*.html' -exec sed -i "s#${cdn}#${local_dist}#g" {} +
    echo "KaTeX: local copy from the npm registry ($out/package/dist)"
fi

status=0
for page in policy-gradients lqr; do
    url="file://$PWD/$out/site/$page.html"
    flags=(--headless --no-sandbox --disable-gpu --allow-file-access-from-files
           --virtual-time-budget=15000 --window-size=1280,2400)
    "$chromium_bin" "${flags[@]}" --dump-dom "$url" 2>/dev/null > "$out/$page.dom.html"
    "$chromium_bin" "${flags[@]}" --screenshot="$out/$page.png" "$url" >/dev/null 2>&1
    rendered=$(grep -o 'class="katex"' "$out/$page.dom.html" | wc -l)
    # The page's text outside code blocks, scripts and KaTeX's own annotations.
    raw=$(sed -e 's/<script[^>]*>.*<\/script>//g' "$out/$page.dom.html" \
        | perl -0pe 's/<(pre|code|annotation|script|style)\b.*?<\/\1>//gs; s/<[^>]+>//g' \
        | grep -c '\$\$' || true)
    echo "$page: $rendered formulas typeset by KaTeX, $raw lines with raw \$\$; screenshot $out/$page.png"
    if [ "$rendered" -lt 5 ] || [ "$raw" -ne 0 ]; then
        status=1
    fi
done
[ "$status" -eq 0 ] && echo "math rendered on both pages" || echo "math NOT rendered" >&2
exit "$status"
