export class ParkedWorkQuery {
  constructor(readonly limit: number) {}
}
