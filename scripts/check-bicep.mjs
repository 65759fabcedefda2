#!/usr/bin/env node
// Syntax check for the Bicep files under infra/, with tree-sitter-bicep.
//
//   node scripts/check-bicep.mjs [--json] [DIR]        (DIR defaults to infra)
//
// Exits 1 and lists every ERROR or MISSING node as file:line:col when a file
// does not parse. With --json it also prints, for each file, its declarations
// (params, vars, resources, modules, outputs) as a small JSON tree that the Go
// tests in handler/infra read to cross-check the infrastructure
// against the handler. This is a parser, not the Bicep compiler: it does not
// resolve types, API versions or symbols (the Bicep compiler cannot be
// installed here).
//
// tree-sitter-bicep 1.1.0 predates the `extension <name>` statement (Bicep
// 0.30+; the Microsoft Graph extension needs it). Such lines are checked with
// a strict pattern and blanked, keeping line and column numbers, before the
// file is parsed.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const Parser = require('tree-sitter');
const Bicep = require('tree-sitter-bicep');

const args = process.argv.slice(2);
const wantJSON = args.includes('--json');
const dir = resolve(root, args.find((a) => !a.startsWith('--')) ?? 'infra');

function bicepFiles(d) {
  const out = [];
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) out.push(...bicepFiles(p));
    else if (name.endsWith('.bicep')) out.push(p);
  }
  return out;
}

const extensionLine = /^(\s*)extension\s+[A-Za-z_][A-Za-z0-9_]*\s*(\/\/.*)?$/;

// blankExtensions replaces `extension name` statements with spaces.
function blankExtensions(src, problems, file) {
  return src
    .split('\n')
    .map((line, i) => {
      if (extensionLine.test(line)) return ' '.repeat(line.length);
      if (/^\s*extension\b/.test(line)) {
        problems.push(`${file}:${i + 1}:1: unsupported extension statement (only "extension <name>" is accepted)`);
      }
      return line;
    })
    .join('\n');
}

function syntaxProblems(node, file, out) {
  if (node.type === 'ERROR' || node.isMissing) {
    const { row, column } = node.startPosition;
    const what = node.isMissing ? `MISSING ${node.type}` : 'ERROR';
    const text = node.text.split('\n')[0].slice(0, 60);
    out.push(`${file}:${row + 1}:${column + 1}: ${what} near ${JSON.stringify(text)}`);
    if (node.type === 'ERROR') return; // its children only repeat the same fault
  }
  for (const child of node.children) syntaxProblems(child, file, out);
}

// --- JSON model -----------------------------------------------------------

function stringValue(node) {
  // A string literal without interpolation, escapes decoded; null otherwise.
  let s = '';
  for (const c of node.namedChildren) {
    if (c.type === 'string_content') s += c.text;
    else if (c.type === 'escape_sequence') {
      const e = c.text.slice(1);
      s += { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", $: '$' }[e[0]] ?? e;
    } else return null;
  }
  return s;
}

function propertyKey(node) {
  const k = node.namedChildren[0];
  return k.type === 'string' ? stringValue(k) ?? k.text : k.text;
}

// conv turns an expression into {k: kind, ...}: objects and arrays keep their
// structure, plain strings their value, everything else its source text plus
// converted sub-expressions (so objects inside concat() or ?: stay visible).
function conv(node) {
  switch (node.type) {
    case 'object': {
      const props = {};
      for (const p of node.namedChildren) {
        if (p.type !== 'object_property') continue;
        props[propertyKey(p)] = conv(p.namedChildren[p.namedChildren.length - 1]);
      }
      return { k: 'object', props };
    }
    case 'array':
      return { k: 'array', items: node.namedChildren.filter((c) => c.type !== 'comment').map(conv) };
    case 'string': {
      const s = stringValue(node);
      if (s !== null) return { k: 'string', s };
      return { k: 'istring', text: node.text };
    }
    case 'multiline_string':
      return { k: 'string', s: node.text.slice(3, -3).replace(/^\r?\n/, '') };
    case 'if_statement':
      return { k: 'if', cond: node.namedChildren[0].text, body: conv(node.namedChildren[1]) };
    case 'for_statement': {
      const body = node.childForFieldName('body');
      const rest = node.namedChildren.filter((c) => c.id !== body.id);
      return {
        k: 'for',
        vars: rest[0].text,
        iter: conv(rest[rest.length - 1]),
        body: conv(body),
      };
    }
    default:
      return {
        k: node.type,
        text: node.text,
        kids: node.namedChildren.filter((c) => c.type !== 'comment').map(conv),
      };
  }
}

function model(tree) {
  const m = { targetScope: '', params: {}, vars: {}, resources: [], modules: [], outputs: {} };
  for (const d of tree.rootNode.namedChildren) {
    const kids = d.namedChildren;
    switch (d.type) {
      case 'target_scope_assignment':
        m.targetScope = stringValue(kids[0]) ?? kids[0].text;
        break;
      case 'parameter_declaration':
        m.params[kids[0].text] = {
          type: kids[1]?.text ?? '',
          default: kids.length > 2 ? conv(kids[kids.length - 1]) : null,
        };
        break;
      case 'variable_declaration':
        m.vars[kids[0].text] = conv(kids[kids.length - 1]);
        break;
      case 'resource_declaration':
        m.resources.push({
          symbol: kids[0].text,
          type: stringValue(kids[1]) ?? kids[1].text,
          existing: / existing\s*=/.test(d.text.split('\n')[0]),
          value: conv(kids[kids.length - 1]),
        });
        break;
      case 'module_declaration':
        m.modules.push({
          symbol: kids[0].text,
          path: stringValue(kids[1]) ?? kids[1].text,
          value: conv(kids[kids.length - 1]),
        });
        break;
      case 'output_declaration':
        m.outputs[kids[0].text] = conv(kids[kids.length - 1]);
        break;
    }
  }
  return m;
}

// --- main -------------------------------------------------------------------

const parser = new Parser();
parser.setLanguage(Bicep);

const files = bicepFiles(dir);
if (files.length === 0) {
  console.error(`check-bicep: no .bicep files under ${dir}`);
  process.exit(1);
}

const problems = [];
const models = {};
for (const path of files) {
  const rel = relative(dir, path).split('\\').join('/');
  const src = blankExtensions(readFileSync(path, 'utf8'), problems, rel);
  // The Node binding reads input in chunks; a callback avoids its 32 KiB
  // limit on plain string input.
  const tree = parser.parse((i) => src.slice(i, i + 4096));
  syntaxProblems(tree.rootNode, rel, problems);
  if (wantJSON) models[rel] = model(tree);
}

if (problems.length > 0) {
  console.error(`check-bicep: ${problems.length} syntax problem(s):`);
  for (const p of problems) console.error('  ' + p);
  process.exit(1);
}
if (wantJSON) {
  process.stdout.write(JSON.stringify({ files: models }, null, 1) + '\n');
} else {
  console.log(`check-bicep: ${files.length} file(s) parse cleanly with tree-sitter-bicep`);
}
