/** The part of transit-js (Cognitect's Transit reader) that the Stitch Streams transit variant uses. */
declare module 'transit-js' {
  interface MapBuilder<M> {
    init(): M;
    add(map: M, key: unknown, value: unknown): M;
    finalize(map: M): unknown;
  }
  interface Reader {
    read(text: string): unknown;
  }
  interface TransitApi {
    reader(type: 'json', options?: { mapBuilder?: MapBuilder<Record<string, unknown>> }): Reader;
    isKeyword(value: unknown): boolean;
    isSymbol(value: unknown): boolean;
    isInteger(value: unknown): boolean;
    isBigDec(value: unknown): boolean;
    isUUID(value: unknown): boolean;
    isURI(value: unknown): boolean;
    isSet(value: unknown): boolean;
    isList(value: unknown): boolean;
    isTaggedValue(value: unknown): boolean;
  }
  const transit: TransitApi;
  export default transit;
}
