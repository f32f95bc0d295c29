#!/usr/bin/perl
# What Sisimai (the reference bounce analyser, https://libsisimai.org/) says about each
# message file named on the command line: one JSON line per file, in order,
#
#   {"file": PATH, "records": [{"recipient", "alias", "action", "reason", "status"}, ...]}
#
# plus "error" when Sisimai died or took too long on that file (the run carries on).
# One process reads every file: starting perl and loading Sisimai costs more than a
# file does. Works with Sisimai 4 (`make`) and Sisimai 5 (`rise`, which needs
# `vacation => 1` to report auto-replies as 4 always did).
use strict;
use warnings;
use JSON::PP;
use Sisimai;

my $json = JSON::PP->new->canonical(1);
my $api  = Sisimai->can('rise') ? 'rise' : 'make';
my %options = ('delivered' => 1);
$options{'vacation'} = 1 if $api eq 'rise';

sub text { my $value = shift; return defined $value ? "$value" : '' }

sub address {
    my $value = shift;
    return ref($value) ? text($value->address) : text($value);
}

sub record {
    my $found = shift;
    return {
        'recipient' => address($found->recipient),
        'alias'     => text($found->alias),
        'action'    => text($found->action),
        'reason'    => text($found->reason),
        'status'    => text($found->deliverystatus),
    };
}

sub analyse {
    my $path = shift;
    my $row  = { 'file' => $path, 'records' => [] };
    my $done = eval {
        local $SIG{'ALRM'}    = sub { die "timed out\n" };
        local $SIG{'__WARN__'} = sub {};    # Sisimai warns about odd input; not ours to show
        alarm 30;
        my $found = Sisimai->$api($path, %options) // [];
        alarm 0;
        $row->{'records'} = [ map { record($_) } @$found ];
        1;
    };
    alarm 0;
    unless ($done) { my $why = $@ || 'unknown error'; chomp $why; $row->{'error'} = $why }
    return $row;
}

print $json->encode(analyse($_)), "\n" for @ARGV;
