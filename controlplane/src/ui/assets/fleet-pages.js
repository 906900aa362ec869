// Spooky console: the fleet (every node of the scope: state, serving seq, the candidate it
// holds during a staged rollout, labels, last NACK with its issues) and one node with its history.

import { api, scope } from './api.js';
import { enc, facts, h, labelTags, short, table, when } from './dom.js';

/** The candidate a node holds beside what it serves (in-node canary), or a dash. */
const candidate = (n) => (n.candidate ? `seq ${n.candidate.seq} (${n.candidate.percent} %)` : '—');

export async function fleetPage(view) {
  const nodes = (await api('GET', `/v1/nodes?scope=${enc(scope())}`)).body.items;
  const nack = (n) => (n.lastNack ? h('div', {}, `seq ${n.lastNack.seq} at ${n.lastNack.phase}${n.lastNack.retryable ? ' (retryable)' : ''}, ${when(n.lastNack.at)}`,
    h('ul', {}, n.lastNack.issues.map((i) => h('li', {}, h('code', {}, i.pointer), ` ${i.code}: ${i.message}`)))) : '—');
  view.append(h('h2', {}, `Fleet of ${scope()}`), table(['Node', 'State', 'Serving', 'Candidate', 'Source', 'Labels', 'Last seen', 'Last NACK'], nodes.map((n) => [
    h('a', { href: `#/node?id=${enc(n.nodeId)}` }, h('code', {}, n.nodeId)), h('span', { class: `tag state-${n.state}` }, n.state),
    n.serving ? `seq ${n.serving.seq}` : 'nothing', candidate(n), n.source, labelTags(n.labels), when(n.lastSeenAt), nack(n),
  ])));
}

export async function nodePage(view, params) {
  const id = params.get('id') ?? '';
  const n = (await api('GET', `/v1/nodes/${enc(id)}`)).body;
  view.append(h('h2', {}, `Node ${n.nodeId}`), facts([
    ['State', h('span', { class: `tag state-${n.state}` }, n.state)], ['Scope', n.scope], ['Boot id', h('code', {}, n.bootId)],
    ['Serving', n.serving ? `seq ${n.serving.seq} (${short(n.serving.digest)}) from ${n.source}` : 'nothing'],
    ['Candidate', n.candidate ? `seq ${n.candidate.seq} (${short(n.candidate.digest)}), ${n.candidate.percent} % of new requests` : '—'],
    ['Labels', labelTags(n.labels)],
    ['Schema', `${n.schemaMin}–${n.schemaMax}`], ['Build', n.build], ['Connected', when(n.connectedAt)], ['Last seen', when(n.lastSeenAt)],
    ['Last ACK', n.lastAck ? `seq ${n.lastAck.seq}, ${when(n.lastAck.at)}` : '—'],
    ['Last NACK', n.lastNack ? `seq ${n.lastNack.seq} at ${n.lastNack.phase}: ${n.lastNack.issues.map((i) => `${i.pointer} ${i.code}`).join('; ')}` : '—'],
  ]), h('h3', {}, 'History'), table(['At', 'Event', 'Seq', 'Phase'], n.history.map((e) => [when(e.at), e.kind, e.seq ?? '—', e.phase ?? '—'])));
}
