#!/bin/bash
# shellcheck disable=SC2006,SC2086 # the seed's own style, kept as it was (the baseline)
# The seed's mysql_check.sh (shared/seeds/004), kept as the baseline for BENCHMARKS.md.
# Changed only where the benchmark needs it, each marked "bench:":
#   - credentials come from an option file ($DEFAULTS) instead of `-u$user -p$pw`;
#   - `pkill keepalived` became `exit 1`, so that benchmarking never kills a keepalived.
#This scripts is check for Mysql Slave status
Mysqlbin=/usr/bin/mysql
#最大延时
sbm=120
conn="--defaults-file=$DEFAULTS"   # bench: was -h $host -P $port -u$user -p$pw

#Check for $Mysqlbin
if [ ! -f $Mysqlbin ];then
        echo 'Mysqlbin not found,check the variable Mysqlbin'
        exit 1   # bench: was pkill keepalived
fi

#Get Mysql Slave Status
IOThread=`$Mysqlbin $conn -e 'show slave status\G'  2>/dev/null|grep 'Slave_IO_Running:'|awk '{print $NF}'`
SQLThread=`$Mysqlbin $conn -e 'show slave status\G' 2>/dev/null|grep 'Slave_SQL_Running:'|awk '{print $NF}'`
SBM=`$Mysqlbin $conn -e 'show slave status\G' 2>/dev/null|grep 'Seconds_Behind_Master:'|awk '{print $NF}'`

#Check if the mysql run
if [[ -z "$IOThread" ]];then
        exit 1   # bench: was pkill keepalived
fi

#Check if the thread run 
if [[ "$IOThread" == "No" || "$SQLThread" == "No" ]];then
        exit 1   # bench: was pkill keepalived
        elif [[ $SBM -ge $sbm ]];then
                exit 1   # bench: was pkill keepalived
        else
                exit 0
fi
