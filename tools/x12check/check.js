// Parses each X12 file named on the command line with node-x12 in strict
// mode (envelope counts and control numbers checked by the parser), then
// checks what the parser read against the file: one interchange, one
// group, one 837 transaction of 005010X222A1, SE01 its segment count,
// every segment read. Exits 1 naming the first file that fails.
'use strict'
const fs = require('fs')
const { X12Parser } = require('node-x12')

function check (path) {
  const edi = fs.readFileSync(path, 'utf8')
  const ic = new X12Parser(true).parse(edi)
  if (typeof ic.validate === 'function') ic.validate()
  const groups = ic.functionalGroups
  if (groups.length !== 1) throw new Error(`${groups.length} functional groups, want 1`)
  const txs = groups[0].transactions
  if (txs.length !== 1) throw new Error(`${txs.length} transactions, want 1`)
  const tx = txs[0]
  if (tx.header.elements[0].value !== '837' || tx.header.elements[2].value !== '005010X222A1') {
    throw new Error(`transaction ${tx.header.elements.map(e => e.value).join('*')} is not an 837 of 005010X222A1`)
  }
  const count = Number(tx.trailer.elements[0].value)
  if (count !== tx.segments.length + 2) throw new Error(`SE01 is ${count}, the transaction has ${tx.segments.length + 2} segments`)
  const written = edi.split('~').map(s => s.trim()).filter(s => s !== '').length
  if (written !== tx.segments.length + 6) throw new Error(`the parser read ${tx.segments.length + 6} segments of ${written}`)
  return tx.segments.length + 6
}

let failed = false
for (const path of process.argv.slice(2)) {
  try {
    console.log(`${path}: ok, ${check(path)} segments`)
  } catch (err) {
    console.error(`${path}: ${err.message}`)
    failed = true
  }
}
process.exit(failed ? 1 : 0)
