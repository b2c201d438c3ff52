export type {
  AddressLabel, Geo, GeoAnswer, GeoDbInfo, GeoField, GeoLookup, GeoSourceFile, GeoStats, OpenGeoOptions,
} from './types.ts';
export { openGeo, AGE_WARNING_DAYS } from './open-geo.ts';
export {
  aggregationPrefix, classifyIp, formatIpv4, formatIpv6, ipv4Cidr, ipv6Cidr, parseIp, parseIpv4Number, type ParsedIp,
} from './ip-address.ts';
export { ipv4Label, ipv6Label } from './special-ranges.ts';
export { cleanText } from './record-fields.ts';
