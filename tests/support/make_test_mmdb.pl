#!/usr/bin/perl
# make_test_mmdb.pl: small MaxMind DB files for the geoip tests (sensor/app/geoip.h).
#
# Usage: make_test_mmdb.pl [--generation N] OUTDIR
#
# Writes into OUTDIR (which must exist):
#   city.mmdb      GeoLite2-City layout (country, city, subdivisions, location, ...)
#   country.mmdb   GeoLite2-Country layout: country only, no city, no location
#   asn.mmdb       GeoLite2-ASN layout (autonomous_system_number, _organization)
#   asn-v4.mmdb    the same ASN data in an IPv4-only tree (ip_version 4)
#   flat.mmdb      ip-location-db "dbip-city" layout: top-level country_code,
#                  city, state1, latitude and longitude (float), no names maps
#
# Every tree but asn-v4 is an IPv6 tree holding IPv4 and IPv6 networks, with
# IPv4 in ::/96 and the GeoLite2 aliases (::ffff:0:0/96, 2002::/16), as MaxMind
# ships them. Only documentation and benchmarking ranges are used, so the writer
# is told to keep reserved networks.
#
# Generation 1 (default), by network:
#   192.0.2.0/24, 2001:db8:1::/48    DE Germany, Berlin (state Berlin, BE),
#                                    52.52 13.405, AS64496 "Example Berlin Networks GmbH"
#   198.51.100.0/24, 2001:db8:2::/48 CH Switzerland, Zürich (state Zurich, ZH),
#                                    47.3769 8.5417, AS64500 "Zürich Example AG" (v4)
#                                    and AS4200000000 "Large ASN Example" (v6)
#   203.0.113.0/24                   JP Japan, no city, no location, no ASN
#   198.18.0.0/15                    city name of 100 "Ä" (200 bytes), no country
# Generation 2 changes 192.0.2.0/24 and 2001:db8:1::/48 to
#   FR France, Paris (state Île-de-France, IDF), 48.8566 2.3522, AS64511 "Example Paris SAS".
# Nothing else is in any database (10.0.0.0/8, 2001:db8:ffff::/48 are not found).
#
# Needs MaxMind::DB::Writer::Tree (Debian: libmaxmind-db-writer-perl).
use strict;
use warnings;
use utf8;

use Getopt::Long qw(GetOptions);
use MaxMind::DB::Writer::Tree;

my $generation = 1;
GetOptions('generation=i' => \$generation) or die "usage: $0 [--generation N] OUTDIR\n";
die "usage: $0 [--generation N] OUTDIR\n" unless @ARGV == 1 && -d $ARGV[0];
die "$0: generation must be 1 or 2\n" unless $generation == 1 || $generation == 2;
my $out = $ARGV[0];

# MaxMind DB needs a type for every map key; anything not listed is a string.
my %types = (
	city                           => 'map',
	continent                      => 'map',
	country                        => 'map',
	registered_country             => 'map',
	location                       => 'map',
	names                          => 'map',
	subdivisions                   => [ 'array', 'map' ],
	geoname_id                     => 'uint32',
	is_in_european_union           => 'boolean',
	latitude                       => 'double',
	longitude                      => 'double',
	accuracy_radius                => 'uint16',
	autonomous_system_number       => 'uint32',
);
my %flat_types = (latitude => 'float', longitude => 'float');

sub tree {
	my ($type, $ip_version, $types) = @_;
	return MaxMind::DB::Writer::Tree->new(
		ip_version               => $ip_version,
		record_size              => 28,
		database_type            => $type,
		languages                => ['en'],
		description              => { en => "tlsobs test database $type, generation $generation" },
		map_key_type_callback    => sub { $types->{ $_[0] } // 'utf8_string' },
		remove_reserved_networks => 0,
		alias_ipv6_to_ipv4       => $ip_version == 6 ? 1 : 0,
	);
}

sub write_tree {
	my ($tree, $name) = @_;
	my $path = "$out/$name";
	open(my $fh, '>:raw', $path) or die "$0: $path: $!\n";
	$tree->write_tree($fh);
	close($fh) or die "$0: $path: $!\n";
}

# One place per network: [iso, country, city, state, state iso, lat, lon, asn, org].
my %places = (
	berlin => [ 'DE', 'Germany', 'Berlin', 'Berlin', 'BE', 52.52, 13.405, 64496, 'Example Berlin Networks GmbH' ],
	paris  => [ 'FR', 'France', 'Paris', 'Île-de-France', 'IDF', 48.8566, 2.3522, 64511, 'Example Paris SAS' ],
	zurich => [ 'CH', 'Switzerland', 'Zürich', 'Zurich', 'ZH', 47.3769, 8.5417, 64500, 'Zürich Example AG' ],
	japan  => [ 'JP', 'Japan', undef, undef, undef, undef, undef, undef, undef ],
);
my $first = $generation == 1 ? 'berlin' : 'paris';
my @networks = (
	[ '192.0.2.0/24',      $first ],
	[ '2001:db8:1::/48',   $first ],
	[ '198.51.100.0/24',   'zurich' ],
	[ '2001:db8:2::/48',   'zurich', 4200000000, 'Large ASN Example' ],
	[ '203.0.113.0/24',    'japan' ],
);

sub city_record {
	my ($p, $with_city) = @_;
	my ($iso, $country, $city, $state, $state_iso, $lat, $lon) = @$p;
	my %country = (geoname_id => 1000, iso_code => $iso, names => { en => $country, de => "$country (de)" });
	my %r = (country => {%country}, registered_country => {%country}, continent => { code => 'EU', names => { en => 'Europe' } });
	return \%r unless $with_city && defined $city;
	$r{city} = { geoname_id => 2000, names => { en => $city, ja => "$city (ja)" } };
	$r{subdivisions} = [ { iso_code => $state_iso, names => { en => $state } } ];
	$r{location} = { latitude => $lat, longitude => $lon, accuracy_radius => 20, time_zone => 'Europe/Berlin' };
	return \%r;
}

my $city    = tree('GeoLite2-City',    6, \%types);
my $country = tree('GeoLite2-Country', 6, \%types);
my $asn     = tree('GeoLite2-ASN',     6, \%types);
my $asn4    = tree('GeoLite2-ASN',     4, \%types);
my $flat    = tree('dbip-city',        6, \%flat_types);

for my $n (@networks) {
	my ($net, $name, $asn_number, $asn_org) = @$n;
	my $p = $places{$name};
	$city->insert_network($net, city_record($p, 1));
	$country->insert_network($net, city_record($p, 0));
	my ($iso, undef, $cityname, $state, undef, $lat, $lon, $number, $org) = @$p;
	my %f = (country_code => $iso);
	if (defined $cityname) {
		%f = (%f, city => $cityname, state1 => $state, latitude => $lat, longitude => $lon);
	}
	$flat->insert_network($net, \%f);
	$number = $asn_number // $number;
	$org    = $asn_org // $org;
	next unless defined $number;
	my %a = (autonomous_system_number => $number, autonomous_system_organization => $org);
	$asn->insert_network($net, {%a});
	$asn4->insert_network($net, {%a}) unless $net =~ /:/;
}
# A name longer than any field cap, in two-byte characters: a cut must not split one.
$city->insert_network('198.18.0.0/15', { city => { names => { en => 'Ä' x 100 } } });

write_tree($city,    'city.mmdb');
write_tree($country, 'country.mmdb');
write_tree($asn,     'asn.mmdb');
write_tree($asn4,    'asn-v4.mmdb');
write_tree($flat,    'flat.mmdb');
