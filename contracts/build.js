#!/usr/bin/env node
// Compiles every contract with solc-js (through require('solc'), never the solcjs CLI whose piped
// output gets truncated) and writes one artifact per contract: ABI, creation and runtime bytecode.
//
//   node build.js            write artifacts
//   node build.js --check    compile in memory and fail if the committed artifacts differ
//
// Product contracts (src/) go to ../src/pnyx/chain/artifacts, test-only contracts (test-contracts/)
// to ../tests/artifacts. Any compiler warning fails the build.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const ROOT = __dirname;
const TARGETS = [
  { dir: 'src', out: path.join(ROOT, '..', 'src', 'pnyx', 'chain', 'artifacts') },
  { dir: 'test-contracts', out: path.join(ROOT, '..', 'tests', 'artifacts') },
];
const SETTINGS = {
  evmVersion: 'prague',
  viaIR: true,
  optimizer: { enabled: true, runs: 200 },
  metadata: { bytecodeHash: 'none', appendCBOR: false },
  outputSelection: {
    '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'storageLayout'] },
  },
};
// The hub delegates to its extension: both must see the same storage, slot for slot.
const SHARED_STORAGE = ['src/hub/PnyxHub.sol:PnyxHub', 'src/hub/PnyxHubExtension.sol:PnyxHubExtension'];

function listSolidity(dir) {
  const found = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listSolidity(rel));
    else if (entry.name.endsWith('.sol')) found.push(rel);
  }
  return found.sort();
}

function findImports(importPath) {
  for (const base of [ROOT, path.join(ROOT, 'node_modules')]) {
    const candidate = path.join(base, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `not found: ${importPath}` };
}

function compile() {
  const sources = {};
  for (const target of TARGETS) {
    for (const file of listSolidity(target.dir)) {
      sources[file] = { content: fs.readFileSync(path.join(ROOT, file), 'utf8') };
    }
  }
  const input = { language: 'Solidity', sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const problems = (output.errors || []).filter((e) => e.type !== 'Info');
  if (problems.length > 0) {
    for (const p of problems) process.stderr.write(p.formattedMessage + '\n');
    throw new Error(`solc reported ${problems.length} error(s) or warning(s)`);
  }
  checkSharedStorage(output);
  const artifacts = new Map();
  for (const target of TARGETS) {
    for (const file of listSolidity(target.dir)) {
      for (const [name, contract] of Object.entries(output.contracts[file] || {})) {
        const bytecode = contract.evm.bytecode.object;
        // Interfaces and abstract contracts have no bytecode; libraries of internal functions have no ABI.
        if (!bytecode || contract.abi.length === 0) continue;
        const artifact = {
          contractName: name,
          sourceName: file,
          compiler: { version: solc.version(), settings: { ...SETTINGS, outputSelection: undefined } },
          abi: contract.abi,
          bytecode: '0x' + bytecode,
          deployedBytecode: '0x' + contract.evm.deployedBytecode.object,
        };
        artifacts.set(path.join(target.out, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
      }
    }
  }
  return artifacts;
}

function checkSharedStorage(output) {
  const layouts = SHARED_STORAGE.map((id) => {
    const [file, name] = id.split(':');
    return JSON.stringify(output.contracts[file][name].storageLayout.storage.map((s) => [s.slot, s.offset, s.label, s.type]));
  });
  if (new Set(layouts).size !== 1) throw new Error(`storage layouts differ: ${SHARED_STORAGE.join(' vs ')}`);
}

function main() {
  const check = process.argv.includes('--check');
  const artifacts = compile();
  if (check) {
    const stale = [];
    for (const [file, content] of artifacts) {
      if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== content) stale.push(file);
    }
    for (const target of TARGETS) {
      if (!fs.existsSync(target.out)) continue;
      for (const name of fs.readdirSync(target.out)) {
        const file = path.join(target.out, name);
        if (name.endsWith('.json') && !artifacts.has(file)) stale.push(file + ' (no longer built)');
      }
    }
    if (stale.length > 0) {
      process.stderr.write('artifacts differ from the sources:\n  ' + stale.join('\n  ') + '\n');
      process.exit(1);
    }
    process.stdout.write(`${artifacts.size} artifacts match the sources (solc ${solc.version()})\n`);
    return;
  }
  for (const target of TARGETS) {
    fs.rmSync(target.out, { recursive: true, force: true });
    fs.mkdirSync(target.out, { recursive: true });
  }
  for (const [file, content] of artifacts) fs.writeFileSync(file, content);
  process.stdout.write(`wrote ${artifacts.size} artifacts (solc ${solc.version()})\n`);
}

main();
