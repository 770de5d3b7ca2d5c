import { compileFinder, replaceFindings, findingTag } from '../../src/masking/formats/detectors.js';
import { DETECTOR_NAMES } from '../../src/masking/policy-params.js';
import { customerRow, prng } from './customer-records.js';
const rand = prng(42);
const notes: string[] = [];
for (let i = 0; i < 1000; i++) notes.push(String(customerRow(i, rand)['notes']) + (i % 2 ? ' Follow-up done.' : ''));
console.log(notes[0]);
const find = compileFinder(new Set(DETECTOR_NAMES));
console.log(find(notes[0]!).map((f) => [f.detector, f.text]));
for (let r = 0; r < 12; r++) {
  const t0 = process.cpuUsage(); let n = 0;
  for (let k = 0; k < 200000; k++) { const t = notes[k % 1000]!; n += replaceFindings(t, find(t), (f) => findingTag(f.detector)).length; }
  const t = process.cpuUsage(t0); console.log(((t.user + t.system) / 200000).toFixed(2), 'us per note');
}
