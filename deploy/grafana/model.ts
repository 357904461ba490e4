// The dashboards' data model, and the query fragments every dashboard writes its PromQL with.

export interface Query {
  expr: string;
  legend: string;
}

export interface Panel {
  title: string;
  description: string;
  /** A Grafana unit id: short, percentunit, bps, s, bytes, ops, pps. */
  unit: string;
  type?: 'timeseries' | 'stat';
  queries: Query[];
  /** Whether a healthy mesh carrying media returns series for every query (default true). */
  mustHaveData?: boolean;
  /** Why a panel may be empty on a healthy mesh. */
  emptyWhen?: string;
  width?: number;
  max?: number;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  rows: { title: string; panels: Panel[] }[];
}

/** Selector of the region and node variables. */
export const SEL = 'region=~"$region",node=~"$node"';
export const RATE = '$__rate_interval';
export const rate = (metric: string, extra = '') => `rate(${metric}{${SEL}${extra}}[${RATE}])`;
export const quantile = (q: number, metric: string, by: string, extra = '') =>
  `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (${rate(`${metric}_bucket`, extra)}))`;
