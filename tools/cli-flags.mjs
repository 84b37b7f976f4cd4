// Command-line flags of the tools' scripts. Every word must be a known flag,
// a value flag followed by its value: anything else (a typo, --help) prints
// the usage and exits 2, rather than starting a long run with the defaults.
//
//   const o = parseFlags(process.argv.slice(2), { values: { runs: '3' }, switches: ['no-write'] }, USAGE);
//   o.runs === '3', o['no-write'] === false

export function usageError(usage, why = '') {
  process.stderr.write(`${why ? `${why}\n` : ''}${usage}\n`);
  process.exit(2);
}

// `values`: each value flag and its default (a string, or null when absent);
// `switches`: the flags without a value (false unless given).
export function parseFlags(argv, { values = {}, switches = [] }, usage) {
  const out = { ...values };
  for (const s of switches) out[s] = false;
  for (let i = 0; i < argv.length; ++i) {
    const word = argv[i];
    const name = word.startsWith('--') ? word.slice(2) : null;
    if (name !== null && switches.includes(name)) out[name] = true;
    else if (name !== null && Object.hasOwn(values, name) && i + 1 < argv.length) out[name] = argv[++i];
    else usageError(usage, `unexpected ${word}`);
  }
  return out;
}
