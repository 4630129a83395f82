/**
 * Self-contained HTML pages: one file, inline CSS, inline SVG, no script, no network.
 * Every value that comes from a trail or a policy goes through {@link esc}.
 */

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML content and quoted attribute values. Control characters (which
 * HTML forbids and which could hide text) become visible `\u{…}` escapes; bidi overrides
 * too, so a value cannot reorder the text around it.
 */
export function esc(value: string | number): string {
  return (
    String(value)
      .replace(/[&<>"']/g, (c) => ENTITIES[c]!)
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`)
  );
}

/** A tagged template that escapes every interpolated value, except {@link Raw} fragments. */
export class Raw {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

/** Marks already-built HTML so {@link html} does not escape it again. */
export const raw = (s: string): Raw => new Raw(s);

type Part = string | number | Raw | undefined | ReadonlyArray<string | number | Raw | undefined>;

/** `html\`<td>${value}</td>\`` with `value` escaped; arrays are joined; `undefined` prints nothing. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += part(v) + strings[i + 1]!;
  });
  return new Raw(out);
}

function part(v: Part): string {
  if (v === undefined) return '';
  if (v instanceof Raw) return v.html;
  if (Array.isArray(v)) return v.map((x) => part(x as Part)).join('');
  return esc(v as string | number);
}

const CSS = `
:root{--ink:#1b2430;--muted:#4f5b6b;--line:#d9dee5;--soft:#f4f6f9;--accent:#1d4ed8;--allow:#2563eb;--deny:#c2410c;--warn-bg:#fde8e4;--warn:#9f1d0b;--ok:#166534;--ok-bg:#e3f3e8}
*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif;color:var(--ink);background:#fff;line-height:1.5}
body{margin:0}
header.top{background:#0f1f3d;color:#fff;padding:28px 0 22px}
header.top .wrap{display:flex;flex-direction:column;gap:4px}
header.top .eyebrow{font-size:.8rem;letter-spacing:.08em;text-transform:uppercase;color:#b9c6e4}
header.top h1{margin:0;font-size:1.75rem;font-weight:650}
header.top p{margin:0;color:#dbe3f3;font-size:.95rem}
.wrap{max-width:1040px;margin:0 auto;padding:0 28px}
main{padding:8px 0 40px}
h2{font-size:1.2rem;margin:34px 0 10px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:1rem;margin:22px 0 8px}
p.note{color:var(--muted);font-size:.9rem;margin:6px 0 12px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:14px 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin:22px 0 6px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:var(--soft)}
.card .label{font-size:.8rem;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.card .value{font-size:1.7rem;font-weight:650;line-height:1.2}
.card .sub{font-size:.85rem;color:var(--muted)}
.card.alert{background:var(--warn-bg);border-color:#f3b5a8}
.card.alert .value{color:var(--warn)}
table{border-collapse:collapse;width:100%;margin:8px 0 6px;font-size:.92rem}
caption{text-align:left;font-weight:600;padding:4px 0 6px;color:var(--ink)}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
thead th{background:var(--soft);font-weight:600;border-bottom:2px solid var(--line)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:#fafbfc}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.85em}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;font-weight:600;white-space:nowrap}
.badge.overdue{background:var(--warn-bg);color:var(--warn);border:1px solid #f3b5a8}
.badge.open{background:#e8eefc;color:#1e3a8a}
.badge.done{background:var(--ok-bg);color:var(--ok)}
.badge.late{background:#fff4d6;color:#7a4b00}
.badge.flag{background:var(--warn-bg);color:var(--warn)}
.legend{display:flex;gap:18px;font-size:.85rem;color:var(--muted);margin:4px 0 8px}
.legend span::before{content:"";display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px;background:var(--c)}
figure{margin:8px 0 0}
figure svg{max-width:100%;height:auto;display:block}
.empty{color:var(--muted);font-style:italic}
ol.timeline{list-style:none;padding:0;margin:12px 0}
ol.timeline li{padding:10px 14px;border-left:3px solid var(--line);margin:0 0 8px;background:var(--soft);border-radius:0 6px 6px 0}
ol.timeline li.deny{border-left-color:var(--deny)}
ol.timeline li.allow{border-left-color:var(--allow)}
ol.timeline time{font-weight:600;margin-right:4px}
.outcome-allow{color:var(--ok);font-weight:600}
.outcome-deny{color:var(--warn);font-weight:600}
section.activity{margin:28px 0 0}
section.activity h3{font-size:1.05rem;margin:0 0 6px;display:flex;align-items:center;gap:10px}
section.activity table th[scope=row]{width:250px;color:var(--muted);font-weight:600}
ul.routes{margin:0;padding-left:18px}
ul.routes li{margin:2px 0}
a{color:var(--accent)}
q{quotes:"“" "”";color:var(--muted)}
footer{border-top:1px solid var(--line);color:var(--muted);font-size:.85rem;padding:16px 0 28px}
@media print{header.top{background:#fff;color:var(--ink);border-bottom:2px solid var(--ink)}header.top p,header.top .eyebrow{color:var(--muted)}}
`;

/** A whole page: `lang="en"`, a strict CSP that allows no fetch of any kind, inline CSS. */
export function page(options: { title: string; eyebrow: string; lead: Raw | string; body: Raw; footer: Raw | string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="purposekit">
<title>${esc(options.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="top"><div class="wrap"><span class="eyebrow">${esc(options.eyebrow)}</span><h1>${esc(options.title)}</h1><p>${part(options.lead)}</p></div></header>
<main class="wrap">
${options.body.html}
</main>
<footer><div class="wrap">${part(options.footer)}</div></footer>
</body>
</html>
`;
}
