#!/usr/bin/env node
// Doc-comment coverage of the public API: every declaration exported by the package's entry
// points (ts/index.ts → 'convae', ts/node.ts → 'convae/node'), and the public members of the
// exported classes and interfaces. A declaration counts as documented when it has a /** … */
// comment with text (a re-export is judged by the declaration it names), a type parameter when
// its owner's comment has an `@template NAME text` tag.
// Usage: node scripts/doc-coverage.mjs [--list] [--min PERCENT] [--min-members PERCENT]
//   exit 1 when the exported declarations are below --min, or the members below --min-members.
import ts from 'typescript';

const args = process.argv.slice(2);
const list = args.includes('--list');
const threshold = (flag) => {
  if (!args.includes(flag)) return null;
  const v = Number(args[args.indexOf(flag) + 1]);
  // A missing or misspelt value would otherwise compare false and pass every run.
  if (!(v >= 0 && v <= 100)) {
    console.error(`doc-coverage: ${flag} needs a percentage in [0, 100]`);
    process.exit(2);
  }
  return v;
};
const min = threshold('--min');
const minMembers = threshold('--min-members');
const entries = { convae: 'ts/index.ts', 'convae/node': 'ts/node.ts' };

const program = ts.createProgram(Object.values(entries), {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  skipLibCheck: true,
  types: ['node'],
});
const checker = program.getTypeChecker();
// Given the checker, getDocumentationComment (the language service's, what an editor's hover
// shows) falls back to the same-named member of the base class or of an implemented or extended
// interface, as TypeDoc does: an override of a documented base member counts as documented.
const documented = (sym) => ts.displayPartsToString(sym.getDocumentationComment(checker)).trim().length > 0;
const internal = (sym) => sym.getJsDocTags(checker).some((t) => t.name === 'internal');

const seen = new Set();
const rows = []; // { name, kind, ok }
for (const [pkg, file] of Object.entries(entries)) {
  const mod = checker.getSymbolAtLocation(program.getSourceFile(file));
  for (const exp of checker.getExportsOfModule(mod)) {
    const sym = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
    if (seen.has(sym) || internal(sym)) continue;
    seen.add(sym);
    const decl = sym.declarations?.[0];
    if (!decl) continue;
    const where = `${decl.getSourceFile().fileName.replace(`${process.cwd()}/`, '')}`;
    rows.push({ name: `${pkg}: ${exp.name}`, where, member: false, ok: documented(sym) });
    if (sym.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) {
      const members = [...(sym.members?.values() ?? []), ...(sym.exports?.values() ?? [])];
      for (const m of members) {
        const d = m.declarations?.[0];
        if (!d || m.name === 'prototype' || m.name.startsWith('#') || internal(m)) continue;
        const mods = ts.getCombinedModifierFlags(d);
        if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        if (ts.isConstructorDeclaration(d) && !d.parameters.length) continue;
        rows.push({
          name: `${pkg}: ${exp.name}.${m.name === '__constructor' ? 'constructor' : m.name}`,
          where,
          member: true,
          ok: documented(m),
        });
      }
    }
  }
}
const pct = (a, b) => (b ? ((100 * a) / b).toFixed(1) : '100.0');
const top = rows.filter((r) => !r.member),
  mem = rows.filter((r) => r.member);
const okTop = top.filter((r) => r.ok).length,
  okMem = mem.filter((r) => r.ok).length;
console.log(`exported declarations: ${okTop}/${top.length} documented (${pct(okTop, top.length)} %)`);
console.log(
  `public members of exported classes/interfaces: ${okMem}/${mem.length} documented (${pct(okMem, mem.length)} %)`,
);
if (list) for (const r of rows.filter((r) => !r.ok)) console.log(`  undocumented: ${r.name}  (${r.where})`);
const below = (ok, n, p) => p !== null && n > 0 && (100 * ok) / n < p;
if (below(okTop, top.length, min)) console.error(`doc-coverage: exported declarations below --min ${min} %`);
if (below(okMem, mem.length, minMembers)) console.error(`doc-coverage: members below --min-members ${minMembers} %`);
if (below(okTop, top.length, min) || below(okMem, mem.length, minMembers)) process.exit(1);
