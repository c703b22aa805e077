export class DashboardQuery {
  constructor(readonly hours: number) {}
}
