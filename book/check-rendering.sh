#!/usr/bin/env bash
# Checks that the math of the book and of the API documentation renders:
#
# 1. every formula of every book page, and of every `cargo doc` page of the workspace's crates if
#    `target/doc` (or `$CARGO_TARGET_DIR/doc`) exists, is typeset by KaTeX in Node
#    (book/check-math.js): no parse error, and no formula cut up by Markdown;
# 2. two chapters (PPO's, in "Policy gradients", and LQR's) are rendered in headless Chromium:
#    KaTeX's `.katex` elements are present and no raw `$$` is left in the page's text outside
#    code. A screenshot of each page is written to look at.
#
#   cargo doc --workspace --no-deps     # optional, for the API pages
#   bash book/check-rendering.sh [OUT_DIR]        (default: book/build-check/)
#
# Needs mdbook (`cargo install mdbook --locked`), Node and npm, Chromium (`apt-get install
# chromium`), and KaTeX 0.16.22 from the npm registry (`npm pack`, done here). The browser loads
# KaTeX from its CDN if the machine reaches it, else from that local copy — the same files,
# checked by the same integrity hashes. Not part of `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-book/build-check}"
mkdir -p "$out" && out="$(cd "$out" && pwd)"   # absolute: the paths below are used from elsewhere
katex_version=0.16.22
cdn="https://cdn.jsdelivr.net/npm/katex@${katex_version}/dist/"

chromium_bin="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$chromium_bin" ] || { echo "no Chromium: apt-get install chromium" >&2; exit 2; }
command -v mdbook >/dev/null || { echo "no mdbook: cargo install mdbook --locked" >&2; exit 2; }

rm -rf "$out" && mkdir -p "$out"
mdbook build book --dest-dir "$out/site" 2>/dev/null

(cd "$out" && npm pack --silent "katex@${katex_version}" >/dev/null && tar xzf "katex-${katex_version}.tgz")
katex_js="$out/package/dist/katex.js"

status=0
echo "book pages:"
node book/check-math.js "$katex_js" "$out"/site/*.html || status=1
doc="${CARGO_TARGET_DIR:-target}/doc"
if [ -d "$doc" ]; then
    echo "API pages in $doc:"
    pages=$(find "$doc"/wengert* -name '*.html' 2>/dev/null | grep -v '/src/' || true)
    [ -z "$pages" ] || node book/check-math.js "$katex_js" $pages || status=1
fi

# The browser: KaTeX from the CDN when reachable, else the local copy.
if ! curl -fsS --max-time 5 -o /dev/null "${cdn}katex.min.js" 2>/dev/null; then
    local_dist="file://$out/package/dist/"
    find "$out/site" -name '*.html' -exec sed -i "s#${cdn}#${local_dist}#g" {} +
    echo "KaTeX for the browser: the local copy ($out/package/dist)"
fi
for page in policy-gradients lqr; do
    url="file://$out/site/$page.html"
    flags=(--headless --no-sandbox --disable-gpu --allow-file-access-from-files
           --virtual-time-budget=15000 --window-size=1280,2400)
    "$chromium_bin" "${flags[@]}" --dump-dom "$url" 2>/dev/null > "$out/$page.dom.html"
    "$chromium_bin" "${flags[@]}" --screenshot="$out/$page.png" "$url" >/dev/null 2>&1
    rendered=$( (grep -o 'class="katex"' "$out/$page.dom.html" || true) | wc -l)
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
