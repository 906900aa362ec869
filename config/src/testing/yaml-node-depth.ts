/** Containers on the deepest path of a parsed YAML document's node tree (aliases not followed). */
import { type Document, isMap, isPair, isSeq } from 'yaml';

export function yamlNodeDepth(doc: Document): number {
  let max = 0;
  const stack: [unknown, number][] = [[doc.contents, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (isPair(node)) {
      stack.push([node.key, depth], [node.value, depth]);
    } else if (isMap(node) || isSeq(node)) {
      if (depth + 1 > max) max = depth + 1;
      for (const item of node.items as unknown[]) stack.push([item, depth + 1]);
    }
  }
  return max;
}
