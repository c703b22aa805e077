export class SupportStatsQuery {}
