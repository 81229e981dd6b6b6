// Every formula of the given HTML pages, typeset by KaTeX in Node, as the browser would:
//
//   node book/check-math.js KATEX_JS page.html...
//
// KATEX_JS is KaTeX's `dist/katex.js` (from `npm pack katex@0.16.22`; book/check-rendering.sh
// fetches it). A formula is what KaTeX's auto-render finds between `$$…$$` or `$…$` outside
// code. Two things fail: a formula KaTeX cannot parse, and a formula that Markdown has cut up
// with HTML tags — the trap of writing LaTeX in Markdown, where `}_t … x_{` becomes
// `}<em>t … x</em>{` and a line starting with `+ ` becomes a list item.
const fs = require('fs');
const katex = require(require('path').resolve(process.argv[2]));
const decode = s => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&#39;|&#x27;/g, "'").replace(/&amp;/g, '&');
let bad = 0, total = 0;
for (const file of process.argv.slice(3)) {
  const html = fs.readFileSync(file, 'utf8')
    .replace(/<(script|style|pre|code)\b[\s\S]*?<\/\1>/g, ' ');
  const formula = /\$\$([\s\S]*?)\$\$|\$([^$]*?)\$/g;
  let m;
  while ((m = formula.exec(html))) {
    const display = m[1] !== undefined;
    const tex = display ? m[1] : m[2];
    const shown = tex.replace(/\s+/g, ' ').slice(0, 120);
    total++;
    if (/<[a-zA-Z\/]/.test(tex)) {
      bad++;
      console.log(`${file}: HTML inside a formula (Markdown cut it up): ${shown}`);
      continue;
    }
    try {
      // rustdoc's smart punctuation turns the prime of `s'` into `’`, which KaTeX typesets
      // as text (an unknown symbol, not an error): allowed.
      const strict = code => (code === 'unknownSymbol' ? 'ignore' : 'warn');
      katex.renderToString(decode(tex), { displayMode: display, throwOnError: true, strict });
    } catch (e) {
      bad++;
      console.log(`${file}: ${e.message.split('\n')[0]}\n    in: ${decode(shown)}`);
    }
  }
}
console.log(`${total} formulas, ${bad} bad`);
process.exit(bad ? 1 : 0);
