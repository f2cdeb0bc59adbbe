/** The independent reference of the neighbour-agreement tests (`neighbourAgreement`, `mapCodes`, `convae map`). */

/** Mean over points of the share of their k nearest others (float64 Euclidean, ties by index) with their label. */
export function bruteAgreement(
  v: ArrayLike<number>,
  n: number,
  dim: number,
  labels: ArrayLike<number>,
  k: number,
): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let t = 0; t < dim; t++) s += (v[i * dim + t]! - v[j * dim + t]!) ** 2;
      d.push([s, j]);
    }
    d.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    sum += d.slice(0, k).filter(([, j]) => labels[j] === labels[i]).length / k;
  }
  return sum / n;
}
