export type { AddressLabel, GeoAnswer, GeoDbInfo, GeoLookup } from "./types.ts";
