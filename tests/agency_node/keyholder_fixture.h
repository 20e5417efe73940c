// Shared by the key-service tests of the agency node (agency_node_keyholder_test): the
// agency's export both the one-shot commands and the daemon pseudonymise through the key
// service, with the identifiers that must never appear in what the node prints or logs.
#ifndef SAMENZICHT_TESTS_AGENCY_NODE_KEYHOLDER_FIXTURE_H_
#define SAMENZICHT_TESTS_AGENCY_NODE_KEYHOLDER_FIXTURE_H_

namespace samenzicht::agency_node::testing {

inline constexpr char kKeyholderSignals[] =
    "record_id,given_names,surname,date_of_birth,gender,national_id,phone,email,postcode,"
    "street,house_number,city,form,area\n"
    "P-1,Wietske,Hoogeveenstra,1991-08-17,female,111222333,06 5555 1234,wietske@gmail.example,"
    "9725 AB,Paterswoldseweg,4713Z,Haren,sexual,zuid\n"
    "P-2,Jan,Jansen,1985-02-03,male,,0612345678,,9711AA,,,,criminal,oost\n"
    "P-3,Fatima,El Amrani,2007-11-30,female,,,,,,,,labour,\n";

}  // namespace samenzicht::agency_node::testing

#endif  // SAMENZICHT_TESTS_AGENCY_NODE_KEYHOLDER_FIXTURE_H_
