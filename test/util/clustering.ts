/**
 * Clustering scores written independently of ts/anomaly/clusterscores.ts (which works from the contingency table):
 * ARI by counting every pair, NMI as averages over the items, accuracy as the best of every one-to-one matching,
 * purity by majority counts. O(n²) and O(max(clusters, classes)!): for small tests only.
 */
/** ARI by counting all pairs: same–same, same cluster only, same class only, neither. */
export function pairCountAri(u: ArrayLike<number>, v: ArrayLike<number>): number {
  let [ss, sd, ds, dd] = [0, 0, 0, 0];
  for (let i = 0; i < u.length; i++)
    for (let j = i + 1; j < u.length; j++) {
      const [su, sv] = [u[i] === u[j], v[i] === v[j]];
      if (su && sv) ss++;
      else if (su) sd++;
      else if (sv) ds++;
      else dd++;
    }
  return (2 * (ss * dd - sd * ds)) / ((ss + sd) * (sd + dd) + (ss + ds) * (ds + dd));
}

/** NMI (arithmetic mean of the entropies) as averages over the items of log-ratios of their groups' counts. */
export function itemNmi(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const n = u.length;
  const count = (key: (i: number) => string) => {
    const m = new Map<string, number>();
    for (let i = 0; i < n; i++) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
    return (i: number) => m.get(key(i))!;
  };
  const [cu, cv, cuv] = [count((i) => `${u[i]}`), count((i) => `${v[i]}`), count((i) => `${u[i]},${v[i]}`)];
  let [hu, hv, mi] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    hu -= Math.log(cu(i) / n) / n;
    hv -= Math.log(cv(i) / n) / n;
    mi += Math.log((n * cuv(i)) / (cu(i) * cv(i))) / n;
  }
  return mi / ((hu + hv) / 2);
}

/** The best one-to-one matching of clusters to classes, over every permutation of max(clusters, classes) slots. */
export function bruteAccuracy(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const us = [...new Set(Array.from(u))];
  const vs = [...new Set(Array.from(v))];
  const m = Math.max(us.length, vs.length);
  let best = 0;
  const perm = (rest: number[], chosen: number[]) => {
    if (!rest.length) {
      let hit = 0;
      for (let i = 0; i < u.length; i++) if (vs[chosen[us.indexOf(u[i]!)]!] === v[i]) hit++;
      best = Math.max(best, hit);
      return;
    }
    for (const [j, x] of rest.entries()) perm([...rest.slice(0, j), ...rest.slice(j + 1)], [...chosen, x]);
  };
  perm(
    Array.from({ length: m }, (_, i) => i),
    [],
  );
  return best / u.length;
}

/** The share of items in their cluster's most common class. */
export function majorityPurity(u: ArrayLike<number>, v: ArrayLike<number>): number {
  let sum = 0;
  for (const c of new Set(Array.from(u))) {
    const counts = new Map<number, number>();
    for (let i = 0; i < u.length; i++) if (u[i] === c) counts.set(v[i]!, (counts.get(v[i]!) ?? 0) + 1);
    sum += Math.max(...counts.values());
  }
  return sum / u.length;
}
