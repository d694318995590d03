#!/bin/bash
# The MB node edit set of examples/mb-two-nodes.toml, done with xmlstarlet
# the way people script it: one `xmlstarlet ed -L` per file. Differences
# from carbon-patch, all in xmlstarlet's favour (less work): HostName and
# MgtHostName are added rather than uncommented; WSO2_CARBON_DB is deleted
# rather than commented out; the files are re-serialised, not spliced.
#
# usage: xmlstarlet-node.sh HOME INDEX   (node INDEX of bench/mb_recipe.py)
set -eu
home=$1 i=$2
host=10.100.7.118 mysql=jdbc:mysql://localhost:3306 pw=${MB_DB_PASSWORD:-example-password}
conf=$home/repository/conf

xmlstarlet ed -L \
  -u '/axisconfig/clustering/@enable' -v true \
  -u "/axisconfig/clustering/parameter[@name='membershipScheme']" -v wka \
  -u "/axisconfig/clustering/parameter[@name='localMemberHost']" -v $host \
  -u "/axisconfig/clustering/parameter[@name='localMemberPort']" -v $((4000 + i)) \
  -d '/axisconfig/clustering/members/member' \
  -s '/axisconfig/clustering/members' -t elem -n member \
  -s '$prev' -t elem -n hostName -v $host -s '$prev/..' -t elem -n port -v 4001 \
  -s '/axisconfig/clustering/members' -t elem -n member \
  -s '$prev' -t elem -n hostName -v $host -s '$prev/..' -t elem -n port -v 4002 \
  "$conf/axis2/axis2.xml"

xmlstarlet ed -L -N c=http://wso2.org/projects/carbon/carbon.xml \
  -i '/c:Server/c:Version' -t elem -n HostName -v $host \
  -i '/c:Server/c:Version' -t elem -n MgtHostName -v $host \
  -u '/c:Server/c:Ports/c:Offset' -v $((i % 1000)) \
  "$conf/carbon.xml"

# datasource NAME JNDI URL DESCRIPTION: appends the options that build one.
ds=()
datasource() {
  ds+=(-s /datasources-configuration/datasources -t elem -n datasource
    -s '$prev' -t elem -n name -v "$1"
    -s '$prev/..' -t elem -n description -v "$4"
    -s '$prev/..' -t elem -n jndiConfig -s '$prev' -t elem -n name -v "$2"
    -s '$prev/../..' -t elem -n definition -s '$prev' -t attr -n type -v RDBMS
    -s '$prev/..' -t elem -n configuration
    -s '$prev' -t elem -n url -v "$3"
    -s '$prev/..' -t elem -n username -v regadmin
    -s '$prev/..' -t elem -n password -v "$pw"
    -s '$prev/..' -t elem -n driverClassName -v com.mysql.jdbc.Driver
    -s '$prev/..' -t elem -n maxActive -v 50
    -s '$prev/..' -t elem -n maxWait -v 60000
    -s '$prev/..' -t elem -n testOnBorrow -v true
    -s '$prev/..' -t elem -n validationQuery -v "SELECT 1"
    -s '$prev/..' -t elem -n validationInterval -v 30000)
}
datasource REGISTRY_DB jdbc/WSO2RegistryDB "$mysql/REGISTRY_DB?autoReconnect=true" \
  "The datasource used for registry- config/governance"
datasource WSO2_USER_DB jdbc/WSO2UMDB "$mysql/WSO2_USER_DB" \
  "The datasource used for registry and user manager"
datasource "REGISTRY_LOCAL$i" jdbc/WSO2CarbonDB "$mysql/REGISTRY_LOCAL$i?autoReconnect=true" \
  "The datasource used for registry- local"
xmlstarlet ed -L \
  -d "/datasources-configuration/datasources/datasource[name='WSO2_CARBON_DB']" \
  "${ds[@]}" "$conf/datasources/master-datasources.xml"

xmlstarlet ed -L \
  -s /wso2registry -t elem -n dbConfig -s '$prev' -t attr -n name -v sharedregistry \
  -s '$prev/..' -t elem -n dataSource -v jdbc/WSO2RegistryDB \
  -s /wso2registry -t elem -n remoteInstance -s '$prev' -t attr -n url -v https://localhost:9443/registry \
  -s '$prev/..' -t elem -n id -v instanceid \
  -s '$prev/..' -t elem -n dbConfig -v sharedregistry \
  -s '$prev/..' -t elem -n readOnly -v false \
  -s '$prev/..' -t elem -n enableCache -v true \
  -s '$prev/..' -t elem -n registryRoot -v / \
  -s '$prev/..' -t elem -n cacheId -v "regadmin@$mysql/REGISTRY_DB?autoReconnect=true" \
  -s /wso2registry -t elem -n mount -s '$prev' -t attr -n path -v /_system/config \
  -s '$prev/..' -t attr -n overwrite -v true \
  -s '$prev/..' -t elem -n instanceId -v instanceid \
  -s '$prev/..' -t elem -n targetPath -v /_system/config \
  -s /wso2registry -t elem -n mount -s '$prev' -t attr -n path -v /_system/governance \
  -s '$prev/..' -t attr -n overwrite -v true \
  -s '$prev/..' -t elem -n instanceId -v instanceid \
  -s '$prev/..' -t elem -n targetPath -v /_system/governance \
  "$conf/registry.xml"

xmlstarlet ed -L \
  -u "/UserManager/Realm/Configuration/Property[@name='dataSource']" -v jdbc/WSO2CarbonDB \
  "$conf/user-mgt.xml"
